{{/*
Helpers shared by the templates. Objects carry the names and labels that the
Kubernetes target (`deployc build --target k8s`) writes, so both outputs
describe the same objects. Every string is quoted: a name such as `y` or
`1` must stay a string for every YAML reader. Helpers that render a list
put a newline between items but none before the first, so that callers can
`nindent` them.
*/}}

{{/* The namespace of every object: the environment's, else the release's. */}}
{{- define "deployc.namespace" -}}
{{- .Values.namespace.name | default .Release.Namespace -}}
{{- end }}

{{/* Labels of an object belonging to `name`.
     (dict "root" $ "name" NAME "component" COMPONENT) */}}
{{- define "deployc.labels" -}}
app.kubernetes.io/component: {{ .component | quote }}
app.kubernetes.io/managed-by: deployc
app.kubernetes.io/name: {{ .name | quote }}
app.kubernetes.io/part-of: {{ .root.Values.project | quote }}
deployc.dev/environment: {{ .root.Values.environment | quote }}
{{- end }}

{{/* Name, namespace and labels; the labels name `owner` when given, else `name`.
     (dict "root" $ "name" NAME "owner" OWNER "component" COMPONENT) */}}
{{- define "deployc.metadata" -}}
name: {{ .name | quote }}
namespace: {{ include "deployc.namespace" .root | quote }}
labels:
  {{- include "deployc.labels" (dict "root" .root "name" (.owner | default .name) "component" .component) | nindent 2 }}
{{- end }}

{{/* The selector of a workload: its name only, so that it never changes. */}}
{{- define "deployc.selector" -}}
matchLabels:
  app.kubernetes.io/name: {{ . | quote }}
{{- end }}

{{/* A count or a percentage, typed as Kubernetes expects. */}}
{{- define "deployc.intOrString" -}}
{{- if kindIs "string" . }}{{ . | quote }}{{ else }}{{ . | int }}{{ end -}}
{{- end }}

{{/* The name of the environment's AnalysisTemplate. */}}
{{- define "deployc.analysisName" -}}
{{- printf "%s-analysis" .Values.project -}}
{{- end }}

{{/* A reference to the AnalysisTemplate for one service.
     (dict "root" $ "service" NAME) */}}
{{- define "deployc.analysisRef" -}}
templates:
  - templateName: {{ include "deployc.analysisName" .root | quote }}
args:
  - name: service-name
    value: {{ .measured | quote }}
  - name: app
    value: {{ .service | quote }}
  - name: namespace
    value: {{ include "deployc.namespace" .root | quote }}
  - name: pod-hash
    valueFrom:
      podTemplateHashValue: Latest
{{- end }}

{{/* Container security: non-root, no capabilities, RuntimeDefault seccomp.
     (dict "runAsUser" UID "readOnlyRootFilesystem" BOOL "allowPrivilegeEscalation" BOOL) */}}
{{- define "deployc.containerSecurity" -}}
allowPrivilegeEscalation: {{ .allowPrivilegeEscalation }}
capabilities:
  drop:
    - ALL
readOnlyRootFilesystem: {{ .readOnlyRootFilesystem }}
runAsGroup: {{ .runAsUser | int }}
runAsNonRoot: true
runAsUser: {{ .runAsUser | int }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Pod security for a user id. */}}
{{- define "deployc.podSecurity" -}}
fsGroup: {{ . | int }}
runAsGroup: {{ . | int }}
runAsNonRoot: true
runAsUser: {{ . | int }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* CPU and memory requests and limits (no cpu limit for `cpu = request..`). */}}
{{- define "deployc.resources" -}}
limits:
  {{- with .limits.cpu }}
  cpu: {{ . | quote }}
  {{- end }}
  memory: {{ .limits.memory | quote }}
requests:
  cpu: {{ .requests.cpu | quote }}
  memory: {{ .requests.memory | quote }}
{{- end }}

{{/* emptyDir volumes for the paths a read-only container writes to: `tmp`, `scratch-1`, ... */}}
{{- define "deployc.scratchVolumes" -}}
{{- range $i, $p := . }}{{ if $i }}{{ "\n" }}{{ end }}- emptyDir: {}
  name: {{ if eq $i 0 }}tmp{{ else }}scratch-{{ $i }}{{ end }}
{{- end }}
{{- end }}

{{- define "deployc.scratchMounts" -}}
{{- range $i, $p := . }}{{ if $i }}{{ "\n" }}{{ end }}- mountPath: {{ $p | quote }}
  name: {{ if eq $i 0 }}tmp{{ else }}scratch-{{ $i }}{{ end }}
{{- end }}
{{- end }}

{{/* Config files (`files`): the ConfigMap `<service>-files`, each file mounted alone. */}}
{{- define "deployc.fileMounts" -}}
{{- with . }}{{ range $name, $path := .mounts }}
- mountPath: {{ $path | quote }}
  name: files
  readOnly: true
  subPath: {{ $name | quote }}
{{- end }}{{ end }}
{{- end }}

{{- define "deployc.fileVolume" -}}
{{- if .files }}
- configMap:
    name: {{ printf "%s-files" .name | quote }}
  name: files
{{- end }}
{{- end }}

{{/* Container variables: literal values, or keys of Secrets. */}}
{{- define "deployc.env" -}}
{{- range $i, $e := . }}{{ if $i }}{{ "\n" }}{{ end }}- name: {{ .name | quote }}
  {{- if hasKey . "secretKeyRef" }}
  valueFrom:
    secretKeyRef:
      key: {{ .secretKeyRef.key | quote }}
      name: {{ .secretKeyRef.name | quote }}
      optional: false
  {{- else if hasKey . "fieldRef" }}
  valueFrom:
    fieldRef:
      fieldPath: {{ .fieldRef.fieldPath | quote }}
  {{- else }}
  value: {{ .value | quote }}
  {{- end }}
{{- end }}
{{- end }}

{{/* A probe: what it checks, and its timing (decided by deployc per probe).
     (dict "handler" HANDLER "timing" TIMING) */}}
{{- define "deployc.probe" -}}
{{ toYaml .handler }}
{{ toYaml .timing }}
{{- end }}

{{/* A TCP probe on a datastore's port. */}}
{{- define "deployc.tcpProbe" -}}
initialDelaySeconds: 10
periodSeconds: 10
tcpSocket:
  port: {{ . | int }}
{{- end }}

{{/* The pod template of a service, or of its migration Job when `command` is set.
     (dict "root" $ "name" SERVICE "pod" POD-NAME "component" COMPONENT "service" VALUES ["command" LIST]) */}}
{{- define "deployc.podTemplate" -}}
{{- $s := .service -}}
{{- $job := hasKey . "command" -}}
metadata:
  {{- if or $s.config $s.podAnnotations $s.files }}
  annotations:
    {{- with $s.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- if $s.config }}
    checksum/config: {{ printf "sha256:%s" ($s.config | toJson | sha256sum | trunc 8) | quote }}
    {{- end }}
    {{- with $s.files }}
    checksum/files: {{ printf "sha256:%s" (.data | toJson | sha256sum | trunc 8) | quote }}
    {{- end }}
  {{- end }}
  labels:
    {{- $own := include "deployc.labels" (dict "root" .root "name" .pod "component" .component) | fromYaml }}
    {{- $tags := deepCopy ($s.unifiedTags | default dict) }}
    {{- if $s.image.tag }}
    {{- range $s.versionLabels }}
    {{- $_ := set $tags . ($s.image.tag | toString) }}
    {{- end }}
    {{- end }}
    {{- $labels := merge $tags (dict "deployc.dev/service" .name) $own (deepCopy ($s.podLabels | default dict)) }}
    {{- toYaml $labels | nindent 4 }}
spec:
  automountServiceAccountToken: false
  {{- with $s.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $s.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $s.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if not $job }}
  {{- with $s.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- end }}
  {{- with $s.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: {{ .name | quote }}
      {{- $image := $s.image.repository }}
      {{- with $s.image.tag }}{{ $image = printf "%s:%s" $image . }}{{ end }}
      {{- with $s.image.digest }}{{ $image = printf "%s@%s" $image . }}{{ end }}
      image: {{ $image | quote }}
      imagePullPolicy: {{ $s.image.pullPolicy }}
      {{- if $job }}
      command:
        {{- toYaml .command | nindent 8 }}
      {{- else }}
      {{- with $s.command }}
      command:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $s.args }}
      args:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $s.ports }}
      ports:
        {{- range . }}
        - containerPort: {{ .containerPort | int }}
          name: {{ .name | quote }}
          {{- if ne .protocol "TCP" }}
          protocol: {{ .protocol }}
          {{- end }}
        {{- end }}
      {{- end }}
      {{- end }}
      {{- if $s.config }}
      envFrom:
        - configMapRef:
            name: {{ printf "%s-config" .name | quote }}
            optional: false
      {{- end }}
      {{- with $s.env }}
      env:
        {{- include "deployc.env" . | nindent 8 }}
      {{- end }}
      resources:
        {{- include "deployc.resources" $s.resources | nindent 8 }}
      {{- if not $job }}
      {{- with $s.livenessProbe }}
      livenessProbe:
        {{- include "deployc.probe" (dict "handler" . "timing" $s.probeTiming.liveness) | nindent 8 }}
      {{- end }}
      {{- with $s.readinessProbe }}
      readinessProbe:
        {{- include "deployc.probe" (dict "handler" . "timing" $s.probeTiming.readiness) | nindent 8 }}
      {{- end }}
      {{- with $s.startupProbe }}
      startupProbe:
        {{- include "deployc.probe" (dict "handler" . "timing" $s.probeTiming.startup) | nindent 8 }}
      {{- end }}
      {{- end }}
      securityContext:
        {{- include "deployc.containerSecurity" $s.securityContext | nindent 8 }}
      volumeMounts: {{- if or $s.writablePaths $s.files }}{{ include "deployc.scratchMounts" $s.writablePaths | nindent 8 }}{{ include "deployc.fileMounts" $s.files | nindent 8 }}{{ else }} []{{ end }}
  {{- if or $job (has $s.kind (list "job" "cron")) }}
  restartPolicy: Never
  {{- end }}
  securityContext:
    {{- include "deployc.podSecurity" $s.securityContext.runAsUser | nindent 4 }}
  serviceAccountName: {{ $s.serviceAccount | quote }}
  volumes: {{- if or $s.writablePaths $s.files }}{{ include "deployc.scratchVolumes" $s.writablePaths | nindent 4 }}{{ include "deployc.fileVolume" (dict "name" .name "files" $s.files) | nindent 4 }}{{ else }} []{{ end }}
{{- end }}

{{/* HTTPS to addresses outside the cluster network: cloud APIs, telemetry, third parties. */}}
{{- define "deployc.httpsOut" -}}
- ports:
    - port: 443
      protocol: TCP
  to:
    - ipBlock:
        cidr: 0.0.0.0/0
        except:
          - 10.0.0.0/8
          - 172.16.0.0/12
          - 192.168.0.0/16
{{- end }}

{{/* Egress to backing resources: in-cluster pods, or the private network. */}}
{{- define "deployc.resourceEgress" -}}
{{- range $i, $e := . }}{{ if $i }}{{ "\n" }}{{ end }}- ports:
    - port: {{ .port | int }}
      protocol: TCP
  to:
    {{- if hasKey . "pods" }}
    - podSelector:
        {{- include "deployc.selector" .pods | nindent 8 }}
    {{- else if hasKey . "labels" }}
    - podSelector:
        matchLabels:
          {{- toYaml .labels | nindent 10 }}
    {{- else }}
    - ipBlock:
        cidr: {{ .cidr | quote }}
    {{- end }}
{{- end }}
{{- end }}

{{/* The pod of a backup (the CronJob's and the pre-deploy Job's): root, d (datastore), b (backup), job, claim, restart. */}}
{{- define "deployc.backupPod" -}}
metadata:
  labels:
    {{- include "deployc.labels" (dict "root" .root "name" .job "component" "backup") | nindent 4 }}
spec:
  automountServiceAccountToken: false {{- /* # pragma: allowlist secret (a boolean: detect-secrets reads templates as text) */}}
  restartPolicy: {{ .restart }}
  {{- with .b.serviceAccount }}
  serviceAccountName: {{ . | quote }}
  {{- end }}
  securityContext:
    {{- include "deployc.podSecurity" .d.runAsUser | nindent 4 }}
  {{- if .b.upload }}
  initContainers:
  {{- else }}
  containers:
  {{- end }}
    - name: backup
      image: {{ .d.image | quote }}
      imagePullPolicy: Always
      command:
        - /bin/sh
        - -c
        - {{ .b.script | quote }}
      env:
        {{- include "deployc.env" .b.env | nindent 8 }}
      resources:
        {{- include "deployc.resources" .b.resources | nindent 8 }}
      securityContext:
        {{- include "deployc.containerSecurity" (dict "runAsUser" .d.runAsUser "readOnlyRootFilesystem" true "allowPrivilegeEscalation" false) | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        - name: backups
          mountPath: /backups
  {{- with .b.upload }}
  containers:
    - {{- toYaml . | nindent 6 }}
  {{- end }}
  volumes:
    - name: tmp
      emptyDir: {}
    - name: backups
      persistentVolumeClaim:
        claimName: {{ .claim | quote }}
{{- end }}
