//! The shape of every declaration: its fields, their types, defaults and docs.
//!
//! The checker validates blocks against these tables, and the language
//! reference and editor tooling read them too, so the rules live in one place.

/// The kinds of named declaration a reference can point at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefKind {
    Service,
    Resource,
    Environment,
    Strategy,
    Gate,
    Integration,
    Toolchain,
    Preset,
}

impl RefKind {
    pub fn word(self) -> &'static str {
        match self {
            RefKind::Service => "service",
            RefKind::Resource => "resource",
            RefKind::Environment => "environment",
            RefKind::Strategy => "strategy",
            RefKind::Gate => "gate",
            RefKind::Integration => "integration",
            RefKind::Toolchain => "toolchain",
            RefKind::Preset => "preset",
        }
    }
    pub fn from_keyword(k: &str) -> Option<RefKind> {
        Some(match k {
            "service" => RefKind::Service,
            "resource" => RefKind::Resource,
            "environment" => RefKind::Environment,
            "strategy" => RefKind::Strategy,
            "gate" => RefKind::Gate,
            "integration" => RefKind::Integration,
            "toolchain" => RefKind::Toolchain,
            "preset" => RefKind::Preset,
            _ => return None,
        })
    }
}

/// A field's type. Static tables of these describe the whole language.
#[derive(Debug)]
pub enum Ty {
    /// One line of text: no newline or other control character (E0305).
    Str,
    /// Text of several lines (`\n`, `\t` allowed), such as a config file's
    /// content; other control characters are refused (E0305).
    Text,
    /// A relative path inside a tree: a one-line string, not absolute,
    /// without `..` (E0306).
    RelPath,
    /// A git branch name as `git check-ref-format --branch` accepts it
    /// (E0330): it reaches workflow filters, `if:` conditions and Groovy.
    Branch,
    /// A DNS name (lowercase letters, digits, `-`, `.`; `*.` first for a
    /// wildcard), may interpolate (E0331).
    Host,
    /// An absolute URL path: `/` first, letters, digits and `-._~/%?=&+:@,`
    /// (E0332).
    UrlPath,
    Int,
    Bool,
    /// 1..=65535
    Port,
    /// cores: `250m`, `1`, `1.5`
    Cpu,
    /// bytes: `512Mi`, `1Gi`
    Memory,
    /// `500ms`, `30s`, `5m`, `6h`, `30d`, `1w`
    Duration,
    /// `10%`
    Percent,
    /// A value, or a `min..max` range of it.
    Range(&'static Ty),
    /// A value, a `min..max` range of it, or `min..` without an upper
    /// bound: a cpu request without a limit (a service's `cpu` only).
    OpenRange(&'static Ty),
    List(&'static Ty),
    /// A block with free keys (environment variables, labels).
    Map(&'static Ty),
    /// A block whose keys name declarations of one kind.
    Keyed(RefKind, &'static Ty),
    /// The name of a declaration.
    Ref(RefKind),
    /// One of a fixed set of names.
    Enum(&'static [&'static str]),
    Struct(&'static [FieldSpec]),
    /// `tag` or `tag { fields }`: a registry, a strategy kind, an engine.
    Tagged(&'static [Variant]),
    /// A strategy: the name of a `strategy` declaration or an inline tagged one.
    Strategy,
    /// A canary analysis: a provider name or a block.
    Analysis,
    /// An environment variable value: literal, reference, interpolated string, `secret(...)`.
    EnvValue,
    /// `secret("name")` or `secret("name", key = "k")`.
    Secret,
    /// `on_push("main")`, `on_tag("v*")`, `manual(from = env)`.
    Promotion,
    /// `pull_request`, `push`, `push("main")`, `tag("v*")`, `schedule("0 3 * * *")`, `manual`.
    Trigger,
    /// A canary step: `10%`, `pause(5m)`, `pause()`, `analysis`.
    Step,
    /// A pause: a duration or `manual` (wait for a promotion).
    Pause,
    /// A rolling-update bound: a percentage or a pod count.
    Surge,
}

#[derive(Debug)]
pub struct FieldSpec {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    /// The default as the user would write it; empty when there is none.
    pub default: &'static str,
    pub doc: &'static str,
}

#[derive(Debug)]
pub struct Variant {
    pub tag: &'static str,
    pub fields: &'static [FieldSpec],
    pub doc: &'static str,
}

const fn f(name: &'static str, ty: Ty, default: &'static str, doc: &'static str) -> FieldSpec {
    FieldSpec { name, ty, required: false, default, doc }
}
const fn req(name: &'static str, ty: Ty, doc: &'static str) -> FieldSpec {
    FieldSpec { name, ty, required: true, default: "", doc }
}
const fn v(tag: &'static str, fields: &'static [FieldSpec], doc: &'static str) -> Variant {
    Variant { tag, fields, doc }
}

// ------------------------------------------------------------------ project

pub static REGISTRIES: &[Variant] = &[
    v(
        "ecr",
        &[
            req("region", Ty::Str, "AWS region of the registry"),
            req("account", Ty::Str, "AWS account id (12 digits): image references and IAM role ARNs need it"),
        ],
        "Amazon ECR, pushed to through GitHub OIDC role assumption",
    ),
    v(
        "ghcr",
        &[req("owner", Ty::Str, "GitHub user or organisation owning the packages; image references use it in lower case, as GHCR does")],
        "GitHub Container Registry, pushed to with GITHUB_TOKEN",
    ),
    v("dockerhub", &[req("namespace", Ty::Str, "Docker Hub user or organisation: one repository part of every image reference (lowercase letters and digits; `.`, `_`, `-` between them)")], "Docker Hub"),
];
pub static CLOUDS: &[Variant] = &[
    v(
        "aws",
        &[
            req("region", Ty::Str, "AWS region"),
            f(
                "zones",
                Ty::List(&Ty::Str),
                "three zones of the region",
                "availability zones for subnets and multi-AZ databases",
            ),
            f("kubernetes", Ty::Str, "\"1.33\"", "Kubernetes version of the EKS clusters"),
            f("node_types", Ty::List(&Ty::Str), "[\"m6i.large\"]", "instance types of the managed node groups"),
            f("nodes", Ty::Range(&Ty::Int), "2..6", "node count of each cluster's node group, min..max"),
            f(
                "account",
                Ty::Str,
                "the ECR registry's account",
                "12-digit AWS account id; the pipeline roles' ARNs in the workflows name it",
            ),
        ],
        "Amazon Web Services",
    ),
    v(
        "gcp",
        &[
            req("project", Ty::Str, "GCP project id"),
            req("region", Ty::Str, "GCP region"),
            f("machine_type", Ty::Str, "\"e2-standard-4\"", "machine type of each GKE cluster's node pool"),
            f("nodes", Ty::Range(&Ty::Int), "1..6", "node count of each cluster's node pool (whole pool), min..max"),
            f(
                "release_channel",
                Ty::Enum(&["rapid", "regular", "stable"]),
                "regular",
                "GKE release channel: how soon clusters get new Kubernetes versions",
            ),
        ],
        "Google Cloud: Terraform writes VPC networks, GKE, Cloud SQL, Memorystore, Secret Manager, Cloud DNS and GitHub Workload Identity Federation",
    ),
    v(
        "azure",
        &[
            req("location", Ty::Str, "Azure location (region), e.g. \"westeurope\""),
            f("vm_size", Ty::Str, "\"Standard_D4s_v5\"", "virtual machine size of each AKS cluster's node pools"),
            f("nodes", Ty::Range(&Ty::Int), "2..6", "node count of each cluster's application node pool, min..max"),
        ],
        "Microsoft Azure: Terraform writes VNets, AKS with workload identity, PostgreSQL flexible servers, Azure Cache for Redis, Key Vault, Azure DNS and GitHub federated credentials",
    ),
];
pub static GITOPS: &[Variant] = &[v(
    "argocd",
    &[
        f("namespace", Ty::Str, "\"argocd\"", "namespace ArgoCD runs in"),
        f(
            "mode",
            Ty::Enum(&["application", "applicationset"]),
            "application",
            "one Application per environment, or one ApplicationSet",
        ),
        f("revision", Ty::Str, "\"HEAD\"", "target revision ArgoCD syncs"),
        f("path", Ty::RelPath, "\"out\"", "where the generated tree is committed in the repository"),
        f(
            "self_heal",
            Ty::Bool,
            "true",
            "an automatically synced environment reverts changes made in its cluster by hand",
        ),
        f(
            "prune",
            Ty::Bool,
            "true",
            "an automatically synced environment deletes the objects the generated tree no longer holds",
        ),
        f(
            "retry",
            Ty::Int,
            "10",
            "times ArgoCD retries a failed sync of an environment (backoff from 10s doubling to 5m), 0..50",
        ),
        f(
            "webhook",
            Ty::Secret,
            "none",
            "the repository notifies ArgoCD of every push (GitHub or GitLab), verified with this secret, so syncs start at once instead of on ArgoCD's 3-minute poll",
        ),
    ],
    "ArgoCD syncs the generated Kubernetes tree",
)];
pub static SECRET_STORES: &[Variant] = &[
    v("kubernetes", &[], "plain Kubernetes Secrets created out of band; deployc only references them"),
    v(
        "sealed_secrets",
        &[
            f("controller_namespace", Ty::Str, "\"kube-system\"", "namespace of the Sealed Secrets controller"),
            f(
                "dir",
                Ty::RelPath,
                "none",
                "folder beside the program holding the team's kubeseal output, `<dir>/<env>/<secret>.yaml`: each file is checked (E0380-E0384) and written into the output; without it the team commits SealedSecrets into `k8s/<env>/extra/`",
            ),
        ],
        "Bitnami Sealed Secrets: the team seals each Secret with kubeseal; deployc checks and ships the SealedSecrets of `dir`, or references the Secrets of those the team commits into `extra/`",
    ),
    v(
        "aws_secrets_manager",
        &[
            req("region", Ty::Str, "AWS region"),
            f("prefix", Ty::Str, "project name", "path prefix of the secret names"),
        ],
        "AWS Secrets Manager through External Secrets Operator",
    ),
    v(
        "vault",
        &[
            req("address", Ty::Str, "Vault URL"),
            f("path", Ty::Str, "\"secret\"", "KV mount path"),
            f("role", Ty::Str, "project name", "Kubernetes auth role"),
        ],
        "HashiCorp Vault through External Secrets Operator",
    ),
    v(
        "gcp_secret_manager",
        &[req("project", Ty::Str, "GCP project id the secrets live in (the `gcp` cloud's project)")],
        "Google Secret Manager through External Secrets Operator, with GKE Workload Identity",
    ),
];
pub static DNS: &[Variant] =
    &[v("route53", &[f("zone", Ty::Host, "project domain", "hosted zone name")], "Amazon Route53")];

pub static POLICIES: &[Variant] = &[v(
    "kyverno",
    &[
        f(
            "action",
            Ty::Enum(&["enforce", "audit"]),
            "enforce",
            "refuse pods that break a promise (enforce) or only report them (audit)",
        ),
        f(
            "registries",
            Ty::List(&Ty::Str),
            "[]",
            "image prefixes allowed besides the program's registry and the engine images deployc runs, e.g. \"public.ecr.aws/acme/\"",
        ),
    ],
    "Kyverno policies in each environment's namespace: non-root, read-only root filesystem, no `latest`, limits, allowed registries",
)];

pub static MESHES: &[Variant] = &[
    v(
        "istio",
        &[],
        "Istio sidecars (with the Istio CNI plugin): strict mTLS in each environment's namespace, an AuthorizationPolicy per service from the dependency graph, canaries routed by Istio",
    ),
    v(
        "linkerd",
        &[],
        "Linkerd proxies (with the Linkerd CNI plugin): a Server, MeshTLSAuthentication and AuthorizationPolicy per service from the dependency graph",
    ),
];

pub static PROJECT: &[FieldSpec] = &[
    req("repository", Ty::Str, "source repository, e.g. \"github.com/acme/healthcp\""),
    f("branch", Ty::Branch, "\"main\"", "default branch"),
    req("registry", Ty::Tagged(REGISTRIES), "container registry"),
    f("cloud", Ty::Tagged(CLOUDS), "aws { region = \"us-east-1\" }", "cloud provider"),
    f("gitops", Ty::Tagged(GITOPS), "argocd", "GitOps engine"),
    f("domain", Ty::Host, "", "DNS zone the environments live under"),
    f("dns", Ty::Tagged(DNS), "", "DNS provider managing the zone"),
    f("secret_store", Ty::Tagged(SECRET_STORES), "kubernetes", "where secret values live"),
    f(
        "compliance",
        Ty::List(&Ty::Enum(&["hipaa", "soc2", "gdpr", "pci"])),
        "[]",
        "regimes the platform is audited against",
    ),
    f("team", Ty::Str, "", "owning team, used in labels"),
    f(
        "policy",
        Ty::Tagged(POLICIES),
        "",
        "policy as code: admission policies holding every pod of an environment to what the program promises",
    ),
    f(
        "mesh",
        Ty::Tagged(MESHES),
        "",
        "service mesh: mutual TLS between the services and authorization along the dependency graph",
    ),
    f(
        "state_backup",
        Ty::Struct(BACKUP),
        "",
        "AWS Backup of the Terraform state bucket on this schedule, copied to the program's secondary region (`recovery { region }`) when it names one; AWS projects only (E0450)",
    ),
];

// ------------------------------------------------------------------ service

// ---- several ports and Services (issue 11)
pub static NAMED_PORT: &[FieldSpec] = &[
    req("name", Ty::Str, "port name: a lowercase IANA service name of at most 15 characters (`grpc`, `metrics`); `http` is the main port's"),
    req("port", Ty::Port, "container port"),
    f("service_port", Ty::Port, "port", "port on the workload's Services"),
    f("protocol", Ty::Enum(&["tcp", "udp", "sctp"]), "tcp", "transport protocol"),
    f("app_protocol", Ty::Str, "", "application protocol (`appProtocol`), e.g. `grpc`, `http`, `kubernetes.io/h2c`"),
];
pub static EXTRA_SERVICE: &[FieldSpec] = &[
    req("name", Ty::Str, "name of the Service (a DNS label)"),
    f(
        "type",
        Ty::Enum(&["cluster_ip", "load_balancer", "node_port", "headless"]),
        "cluster_ip",
        "Kubernetes Service type; `headless` is a ClusterIP Service without a cluster IP",
    ),
    f("ports", Ty::List(&Ty::Str), "every port", "names of the ports it serves (`http` is the main port)"),
];

pub static PROBES: &[Variant] = &[
    v(
        "http",
        &[req("path", Ty::UrlPath, "HTTP path"), f("port", Ty::Port, "service port", "port to probe")],
        "HTTP GET probe",
    ),
    v("grpc", &[f("port", Ty::Port, "service port", "port to probe")], "gRPC health probe"),
    v("tcp", &[f("port", Ty::Port, "service port", "port to probe")], "TCP socket probe"),
    v("exec", &[req("command", Ty::List(&Ty::Str), "command run in the container")], "command probe"),
];
pub static EXPOSURE: &[Variant] = &[
    v("internal", &[], "ClusterIP service only"),
    v("load_balancer", &[], "a LoadBalancer Service"),
    v(
        "ingress",
        &[
            req("host", Ty::Host, "host name, may interpolate `${env.domain}`"),
            f("path", Ty::UrlPath, "\"/\"", "path prefix"),
            f("tls", Ty::Bool, "true", "terminate TLS with a cert-manager certificate"),
            f("class", Ty::Str, "\"nginx\"", "ingress class: `\"alb\"` is the AWS Load Balancer Controller on EKS, and ingress-nginx on the address Terraform reserves for a GKE or AKS cluster; any other class is served as nginx, its certificates issued by Let's Encrypt through the ClusterIssuer `letsencrypt` installed with cert-manager"),
            f(
                "certificate",
                Ty::Str,
                "",
                "ACM certificate ARN for `class = \"alb\"` (the ALB never reads cert-manager Secrets); may interpolate `${env.name}`",
            ),
        ],
        "an Ingress with TLS",
    ),
];
pub static BUILD: &[FieldSpec] = &[
    f("context", Ty::RelPath, "\".\"", "Docker build context"),
    f("dockerfile", Ty::RelPath, "\"<context>/Dockerfile\"", "Dockerfile path"),
    f("target", Ty::Str, "", "multi-stage build target"),
];
pub static MIGRATIONS: &[FieldSpec] = &[
    req("command", Ty::List(&Ty::Str), "command that applies migrations"),
    f(
        "tool",
        Ty::Enum(&["prisma", "alembic", "flyway", "liquibase", "knex", "migrate", "custom"]),
        "custom",
        "migration tool, for docs and CI validation",
    ),
];
pub static SECURITY: &[FieldSpec] = &[
    f("run_as_user", Ty::Int, "10001", "numeric user id; 0 is refused"),
    f("read_only_root_filesystem", Ty::Bool, "true", "relaxing this warns (W0003)"),
    f("allow_privilege_escalation", Ty::Bool, "false", "relaxing this warns (W0003)"),
    f("writable_paths", Ty::List(&Ty::Str), "[\"/tmp\"]", "paths mounted as emptyDir"),
];
pub static LOCAL: &[FieldSpec] = &[
    f(
        "sync",
        Ty::Str,
        "",
        "absolute path in the container the build context is copied to on every change (Compose Watch); without it a change rebuilds the image",
    ),
    f(
        "command",
        Ty::List(&Ty::Str),
        "the image's",
        "command run locally instead of the image's, e.g. a dev server that reloads on change",
    ),
    f("port", Ty::Port, "the container port, or the next free one", "port on 127.0.0.1 of the developer's machine"),
    f("ignore", Ty::List(&Ty::Str), "[]", "paths of the build context not synced (beside `.dockerignore`)"),
];
pub static SERVICE: &[FieldSpec] = &[
    f(
        "extends",
        Ty::Ref(RefKind::Preset),
        "",
        "preset whose fields this one starts from; its own fields replace them, `env` merges by variable",
    ),
    f(
        "image",
        Ty::Str,
        "service name",
        "a repository name (no tag): CI builds it and pushes it to the project's registry; or a full reference with a tag or digest (`\"argoproj/rollouts-demo:blue\"`, `\"ghcr.io/o/x@sha256:...\"`): a prebuilt image, deployed as written",
    ),
    f("build", Ty::Struct(BUILD), "{ context = \".\" }", "how the image is built (not with a prebuilt image)"),
    f(
        "language",
        Ty::Ref(RefKind::Toolchain),
        "",
        "toolchain preset driving lint, type-check and test steps; required for an image built here, refused with a prebuilt one",
    ),
    f("framework", Ty::Str, "", "framework name, for docs"),
    f("command", Ty::List(&Ty::Str), "the image's ENTRYPOINT", "the container's command, replacing the image's ENTRYPOINT"),
    f("args", Ty::List(&Ty::Str), "the image's CMD", "the container's arguments, replacing the image's CMD"),
    f("port", Ty::Port, "none", "container port; a service without one gets no Kubernetes Service"),
    f("service_port", Ty::Port, "port", "port of the Kubernetes Service"),
    f("expose", Ty::Tagged(EXPOSURE), "internal", "how the service is reached"),
    f("health", Ty::Tagged(PROBES), "", "liveness probe (and readiness unless `readiness` is set)"),
    f("readiness", Ty::Tagged(PROBES), "health", "readiness probe"),
    f("cpu", Ty::OpenRange(&Ty::Cpu), "100m..500m", "cpu request..limit, or request.. without a limit"),
    f("memory", Ty::Range(&Ty::Memory), "128Mi..256Mi", "memory request..limit"),
    f("replicas", Ty::Range(&Ty::Int), "1", "fixed count, or min..max for an HPA"),
    f("target_cpu", Ty::Percent, "70%", "HPA cpu utilisation target"),
    f("env", Ty::Map(&Ty::EnvValue), "{}", "environment variables"),
    f("migrations", Ty::Struct(MIGRATIONS), "", "migrations run before each rollout"),
    f("depends_on", Ty::List(&Ty::Ref(RefKind::Service)), "[]", "dependencies not visible in env references"),
    f("uses", Ty::List(&Ty::Ref(RefKind::Resource)), "[]", "resources used without an env reference"),
    f("security", Ty::Struct(SECURITY), "secure defaults", "explicit relaxations of the pod security defaults"),
    f("metrics", Ty::Bool, "true when observability.metrics is set", "expose /metrics for scraping"),
    f(
        "custom_metrics",
        Ty::List(&Ty::Struct(APP_METRIC)),
        "[]",
        "metrics this service exposes itself (`[{ name = \"bookings_total\" kind = counter description = \"Bookings\" }]`), charted on its Grafana dashboard and the environment's business dashboard (E0393-E0395, W0012)",
    ),
    f(
        "slo",
        Ty::Struct(SLO),
        "none",
        "an availability objective over requests (`slo { availability = 99.9% window = 30d }`): multiwindow burn-rate alerts on its error budget and an SLO dashboard per environment (E0398, E0399)",
    ),
    f(
        "vpa",
        Ty::Enum(&["recommend", "initial"]),
        "",
        "a Vertical Pod Autoscaler: `recommend` only reports requests, `initial` also sets them when pods start (not with an HPA, E0350)",
    ),
    f(
        "local",
        Ty::Struct(LOCAL),
        "built and run as it is",
        "local development with Docker Compose (`compose/docker-compose.yml`): hot reload, dev command, host port",
    ),
    // ---- workload kinds and per-service strategy (issue 11)
    f(
        "kind",
        Ty::Enum(&["service", "worker", "job", "cron"]),
        "service",
        "`service`: a long-running server; `worker`: a long-running process nothing connects to (no port, Service or ingress); `job`: a Job run once per release, after the release is live (ArgoCD PostSync hook); `cron`: a CronJob on `schedule`",
    ),
    f("schedule", Ty::Str, "", "cron schedule of a `kind = cron` (five fields, UTC), e.g. `\"0 3 * * *\"`"),
    f(
        "concurrency",
        Ty::Enum(&["forbid", "replace", "allow"]),
        "forbid",
        "a cron job's run when the last one still runs: skipped, replacing it, or beside it",
    ),
    f("retries", Ty::Int, "2", "retries of a failed job or cron job pod (backoffLimit)"),
    f("deadline", Ty::Duration, "1h", "how long a job or cron job run may take (activeDeadlineSeconds)"),
    f(
        "strategy",
        Ty::Strategy,
        "the environment's",
        "this service's rollout strategy in every environment, replacing the environment's; a worker takes only `rolling` (and follows a progressive environment with a rolling update), a job or cron job none",
    ),
    f(
        "ports",
        Ty::List(&Ty::Struct(NAMED_PORT)),
        "[]",
        "named ports beside the main `port` (named `http`): on the container, every Service and the network policy; a port named `metrics` is the one Prometheus scrapes",
    ),
    f(
        "services",
        Ty::List(&Ty::Struct(EXTRA_SERVICE)),
        "[]",
        "Services beside the main one (whose type `expose` sets), e.g. `{ name = \"frontend-external\" type = load_balancer }`",
    ),
    f("canary_service", Ty::Str, "\"<service>-canary\"", "name of the canary Service under a canary strategy"),
    f("preview_service", Ty::Str, "\"<service>-preview\"", "name of the preview Service under a blue-green strategy"),
    // ---- pod details (issue 11, item 5)
    f("service_account", Ty::Str, "the service's name", "name of the Kubernetes ServiceAccount the pods run as (deployc creates it)"),
    f("labels", Ty::Map(&Ty::Str), "{}", "extra labels on the pods: Kubernetes label keys and values (E0370); keys with a prefix are quoted (`\"example.com/team\" = \"cart\"`)"),
    f("annotations", Ty::Map(&Ty::Str), "{}", "extra annotations on the pods: Kubernetes annotation keys (E0371)"),
    f("node_selector", Ty::Map(&Ty::Str), "{}", "node labels the pods must run on (label keys and values, E0370)"),
    f(
        "prefer_nodes",
        Ty::Map(&Ty::Str),
        "{}",
        "node labels the scheduler prefers for the pods without requiring them (soft node affinity, one preference per label; E0370)",
    ),
    f("tolerations", Ty::List(&Ty::Str), "[]", "taints the pods tolerate, as `kubectl taint` writes them: `key=value:Effect`, `key:Effect` or `key` (E0372)"),
    f("spread", Ty::Enum(&["zones", "none"]), "zones in a production environment when replicas > 1, else none", "spread the replicas across availability zones (a topology spread constraint on `topology.kubernetes.io/zone`)"),
    f("pull_secrets", Ty::List(&Ty::Str), "[]", "image pull Secrets (`kubernetes.io/dockerconfigjson`); they join the secret inventory and get a producer like every Secret"),
    f("probes", Ty::Struct(PROBE_TIMING), "period 10s, timeout 3s, failure 3, success 1", "timings of the liveness, readiness and startup probes"),
    f("startup", Ty::Tagged(PROBES), "", "startup probe: liveness and readiness wait until it succeeds"),
    f("queue_scaling", Ty::Struct(QUEUE_SCALING), "", "scale on the depth of a queue the service reads (a KEDA ScaledObject between the bounds of `replicas`, no HPA): an SQS `queue` (on an EKS cluster this output creates: KEDA's operator reads its depth as its own IAM role), an in-cluster Redis list or a Kafka topic (E0376-E0378)"),
    f("files", Ty::Map(&Ty::Text), "{}", "config files: absolute mount path = content (E0374); delivered by the ConfigMap `<service>-files`, and a change rolls the pods (`checksum/files`)"),
];

pub static QUEUE_SCALING: &[FieldSpec] = &[
    req("queue", Ty::Ref(RefKind::Resource), "the resource read: a `queue`, a Redis (its list) or a Kafka (a topic)"),
    f("list", Ty::Str, "", "the Redis list, or the Kafka topic, whose length is measured"),
    f("group", Ty::Str, "", "the Kafka consumer group whose lag is measured"),
    f("per_replica", Ty::Int, "5", "messages waiting per replica: KEDA adds replicas above it"),
];

pub static PROBE_TIMING: &[FieldSpec] = &[
    f("period", Ty::Duration, "10s", "how often the probes run"),
    f("timeout", Ty::Duration, "3s", "how long one probe may take"),
    f("failure_threshold", Ty::Int, "3", "failures in a row before the pod is restarted or taken out of the Service"),
    f("success_threshold", Ty::Int, "1", "successes in a row before a failed readiness probe counts as ready again"),
    f("initial_delay", Ty::Duration, "10s liveness, 5s readiness, 0s startup", "delay before the first probe"),
    f(
        "liveness",
        Ty::Struct(ONE_PROBE_TIMING),
        "the shared timings",
        "the liveness probe's own timings, replacing the shared ones field by field",
    ),
    f(
        "readiness",
        Ty::Struct(ONE_PROBE_TIMING),
        "the shared timings",
        "the readiness probe's own timings, replacing the shared ones field by field",
    ),
    f(
        "startup",
        Ty::Struct(ONE_PROBE_TIMING),
        "the shared timings",
        "the startup probe's own timings, replacing the shared ones field by field",
    ),
];

/// One probe's timings inside `probes { liveness { ... } }`.
pub static ONE_PROBE_TIMING: &[FieldSpec] = &[
    f("period", Ty::Duration, "the shared period", "how often this probe runs"),
    f("timeout", Ty::Duration, "the shared timeout", "how long one run of this probe may take"),
    f("failure_threshold", Ty::Int, "the shared threshold", "failures in a row before the pod is restarted (liveness, startup) or taken out of the Service (readiness)"),
    f("success_threshold", Ty::Int, "1", "successes in a row before a failed probe counts as passing again: readiness only; liveness and startup take only 1 (E0379)"),
    f("initial_delay", Ty::Duration, "the shared delay", "delay before this probe's first run"),
];

// ---------------------------------------------------------------- resources

pub static BACKUP: &[FieldSpec] = &[
    req(
        "schedule",
        Ty::Enum(&["every_30m", "hourly", "every_6h", "daily", "weekly"]),
        "how often (AWS Backup runs a managed database's at most hourly)",
    ),
    f("retain", Ty::Duration, "7d", "how long backups are kept"),
];
pub static RECOVERY: &[FieldSpec] = &[
    req(
        "rpo",
        Ty::Duration,
        "recovery point objective: the most recent data a restore may lose; every environment's backups must meet it, counting the copy to `region` when one is named (E0340)",
    ),
    f(
        "rto",
        Ty::Duration,
        "",
        "recovery time objective: how long a restore may take; stated on the architecture page beside the weekly restore drill",
    ),
    f(
        "region",
        Ty::Str,
        "",
        "a secondary AWS region the production environments' backups are copied to (S3 replication of the off-cluster dumps, AWS Backup copies of managed databases); another region than the project's (E0432), one per program (E0433), postgres and mongodb only (E0434)",
    ),
];
/// `proxy` on an engine RDS Proxy does not serve: a field so the checker
/// can say why (E0430) rather than "unknown field".
const NO_PROXY: &str = "not available: RDS Proxy pools connections to RDS and Aurora PostgreSQL only (E0430)";
const PLACEMENT: Ty = Ty::Enum(&["managed", "in_cluster"]);
pub static RESOURCES: &[Variant] = &[
    v(
        "postgres",
        &[
            f("version", Ty::Str, "\"16\"", "engine version; in the cluster a bare number (`16`, `7.2`) gets the image's `-alpine` variant, any other tag (`alpine`, `16.4-bookworm`) is used as written"),
            f(
                "placement",
                PLACEMENT,
                "managed",
                "RDS (managed) or a StatefulSet (in_cluster); environments may override",
            ),
            f("aurora", Ty::Bool, "false", "Aurora PostgreSQL instead of RDS"),
            f(
                "proxy",
                Ty::Bool,
                "false",
                "RDS Proxy in front of the managed database: pods connect to the proxy (TLS required), which pools connections and reads the credentials from the database's Secrets Manager secret; needs a managed placement on AWS (E0431)",
            ),
            f(
                "serverless",
                Ty::Range(&Ty::Cpu),
                "",
                "Aurora Serverless v2 capacity in ACUs, min..max in steps of 0.5 (`0.5..16`; 0.5 to 256): every instance is `db.serverless` and scales within it (needs `aurora = true`)",
            ),
            f("instance", Ty::Str, "\"db.t4g.medium\"", "instance class"),
            f("storage", Ty::Memory, "20Gi", "allocated storage"),
            f("storage_class", Ty::Str, "the generated class", "StorageClass of the data volume in the cluster: a class the cluster has (E0375 if not a valid name); by default the encrypted class deployc generates (`gp3-encrypted` on AWS)"),
            f("read_replicas", Ty::Int, "0", "read replicas"),
            f("multi_az", Ty::Bool, "false", "multi-AZ standby"),
            f("backup", Ty::Struct(BACKUP), "", "automated backups"),
            f("recovery", Ty::Struct(RECOVERY), "", "recovery objectives, checked against the backups"),
            f("database", Ty::Str, "resource name", "database name"),
            // in-cluster sizing and auth
            f("cpu", Ty::Range(&Ty::Cpu), "250m..1", "cpu request..limit of the StatefulSet in the cluster"),
            f("memory", Ty::Range(&Ty::Memory), "512Mi..1Gi", "memory request..limit of the StatefulSet in the cluster"),
            f("alarms", Ty::Struct(ALARM_THRESHOLDS), "the alarm table's", "CloudWatch alarm thresholds when managed on AWS (E0391, E0392)"),
        ],
        "PostgreSQL",
    ),
    v(
        "redis",
        &[
            f("version", Ty::Str, "\"7\"", "engine version; in the cluster a bare number (`16`, `7.2`) gets the image's `-alpine` variant, any other tag (`alpine`, `16.4-bookworm`) is used as written"),
            f("placement", PLACEMENT, "managed", "ElastiCache (managed) or a StatefulSet"),
            f("cluster", Ty::Bool, "false", "cluster mode"),
            f("proxy", Ty::Bool, "false", NO_PROXY),
            f("replicas", Ty::Int, "0", "replicas per shard"),
            f("instance", Ty::Str, "\"cache.t4g.small\"", "node type"),
            f("storage", Ty::Memory, "1Gi", "volume size in-cluster"),
            f("storage_class", Ty::Str, "the generated class", "StorageClass of the data volume in the cluster: a class the cluster has (E0375 if not a valid name); by default the encrypted class deployc generates (`gp3-encrypted` on AWS)"),
            f("backup", Ty::Struct(BACKUP), "", "snapshots"),
            f("recovery", Ty::Struct(RECOVERY), "", "recovery objectives, checked against the backups"),
            // in-cluster sizing and auth
            f("cpu", Ty::Range(&Ty::Cpu), "100m..500m", "cpu request..limit of the StatefulSet in the cluster"),
            f("memory", Ty::Range(&Ty::Memory), "256Mi..512Mi", "memory request..limit of the StatefulSet in the cluster"),
            f("auth", Ty::Bool, "true", "clients authenticate with a password from the connection Secret; `false`: no password and no Secret (in the cluster only)"),
            f("alarms", Ty::Struct(ALARM_THRESHOLDS), "the alarm table's", "CloudWatch alarm thresholds when managed on AWS (E0391, E0392)"),
        ],
        "Redis",
    ),
    v(
        "mongodb",
        &[
            f("version", Ty::Str, "\"7\"", "engine version"),
            f("placement", PLACEMENT, "in_cluster", "in-cluster StatefulSet (managed means DocumentDB)"),
            f("proxy", Ty::Bool, "false", NO_PROXY),
            f(
                "read_replicas",
                Ty::Int,
                "0",
                "secondaries: in the cluster a replica set of 1 + N members (clients read from the secondaries, write to the primary), managed N DocumentDB replica instances; environments may override",
            ),
            f("storage", Ty::Memory, "20Gi", "volume size"),
            f("storage_class", Ty::Str, "the generated class", "StorageClass of the data volume in the cluster: a class the cluster has (E0375 if not a valid name); by default the encrypted class deployc generates (`gp3-encrypted` on AWS)"),
            f("backup", Ty::Struct(BACKUP), "", "backups"),
            f("recovery", Ty::Struct(RECOVERY), "", "recovery objectives, checked against the backups"),
            f("database", Ty::Str, "resource name", "database name"),
            // in-cluster sizing and auth
            f("cpu", Ty::Range(&Ty::Cpu), "250m..1", "cpu request..limit of the StatefulSet in the cluster"),
            f("memory", Ty::Range(&Ty::Memory), "512Mi..1Gi", "memory request..limit of the StatefulSet in the cluster"),
            f("alarms", Ty::Struct(ALARM_THRESHOLDS), "the alarm table's", "CloudWatch alarm thresholds when managed on AWS (E0391, E0392)"),
        ],
        "MongoDB",
    ),
    v(
        "queue",
        &[
            f("fifo", Ty::Bool, "false", "FIFO queue"),
            f("retention", Ty::Duration, "4d", "message retention"),
            f("dead_letter", Ty::Bool, "true", "a dead-letter queue"),
            f("visibility_timeout", Ty::Duration, "30s", "visibility timeout"),
            f("alarms", Ty::Struct(ALARM_THRESHOLDS), "the alarm table's", "CloudWatch alarm thresholds when managed on AWS (E0391, E0392)"),
        ],
        "an SQS queue (always managed)",
    ),
    v(
        "bucket",
        &[
            f("versioning", Ty::Bool, "true", "object versioning"),
            f("expire_after", Ty::Duration, "", "lifecycle expiry of objects"),
        ],
        "an S3 bucket, encrypted, public access blocked (always managed)",
    ),
    v(
        "kafka",
        &[
            f("version", Ty::Str, "\"3.9.0\"", "Kafka version"),
            f("placement", PLACEMENT, "in_cluster", "Strimzi in the cluster (in_cluster) or Amazon MSK (managed)"),
            f("brokers", Ty::Int, "3", "brokers (KRaft nodes in-cluster, broker nodes on MSK)"),
            f("storage", Ty::Memory, "100Gi", "volume size per broker"),
            f("instance", Ty::Str, "\"kafka.m7g.large\"", "MSK broker instance type"),
            f("topics", Ty::List(&Ty::Str), "[]", "topics to create"),
            f("partitions", Ty::Int, "3", "partitions per topic"),
            f("retention", Ty::Duration, "7d", "message retention per topic"),
            f("alarms", Ty::Struct(ALARM_THRESHOLDS), "the alarm table's", "CloudWatch alarm thresholds when managed on AWS (E0391, E0392)"),
        ],
        "Apache Kafka: Strimzi's Kafka, KafkaNodePool and KafkaTopic in-cluster, or Amazon MSK",
    ),
];

// ------------------------------------------------------------- environments

pub static OVERRIDE: &[FieldSpec] = &[
    f("replicas", Ty::Range(&Ty::Int), "service's", "replica count or HPA range here"),
    f("cpu", Ty::OpenRange(&Ty::Cpu), "service's", "cpu request..limit (or request..) here"),
    f("memory", Ty::Range(&Ty::Memory), "service's", "memory request..limit here"),
    f("env", Ty::Map(&Ty::EnvValue), "{}", "variables added or replaced here"),
    f("enabled", Ty::Bool, "true", "deploy the service to this environment at all"),
    // ---- pod details (issue 11, item 5)
    f("target_cpu", Ty::Percent, "service's", "HPA cpu utilisation target here"),
];
pub static RESOURCE_OVERRIDE: &[FieldSpec] = &[
    f("placement", PLACEMENT, "resource's", "managed or in_cluster here"),
    f("instance", Ty::Str, "resource's", "instance class here"),
    f("read_replicas", Ty::Int, "resource's", "read replicas here"),
    f("multi_az", Ty::Bool, "resource's", "multi-AZ here"),
    f("storage", Ty::Memory, "resource's", "storage here"),
    // ---- in-cluster sizing (issue 11, item 6)
    f("cpu", Ty::Range(&Ty::Cpu), "resource's", "cpu request..limit of the StatefulSet here"),
    f("memory", Ty::Range(&Ty::Memory), "resource's", "memory request..limit of the StatefulSet here"),
    f(
        "alarms",
        Ty::Struct(ALARM_THRESHOLDS),
        "resource's",
        "CloudWatch alarm thresholds here, replacing the resource's field by field",
    ),
];

/// CloudWatch alarm thresholds of a managed resource (`model::ALARM_FIELDS`
/// says which engine reads which; the others are E0391).
pub static ALARM_THRESHOLDS: &[FieldSpec] = &[
    f("cpu", Ty::Percent, "80%", "CPU (Redis: engine CPU) above it for 15 minutes; postgres, mongodb, redis"),
    f(
        "free_storage",
        Ty::Memory,
        "5Gi",
        "allocated storage left below it; postgres on RDS (not Aurora), less than `storage`",
    ),
    f("free_memory", Ty::Memory, "256Mi", "freeable memory below it for 15 minutes; postgres, mongodb"),
    f("memory_used", Ty::Percent, "85%", "Redis memory above this share of maxmemory for 15 minutes; redis"),
    f(
        "replica_lag",
        Ty::Duration,
        "60s on RDS, 1s on Aurora and DocumentDB",
        "a replica further behind for 5 minutes; postgres, mongodb",
    ),
    f("age", Ty::Duration, "15m", "oldest message waiting longer; a queue, less than its `retention`"),
    f("depth", Ty::Int, "1000", "more messages waiting for 15 minutes; a queue"),
    f("dead_letters", Ty::Int, "0", "more messages in the dead-letter queue; a queue with `dead_letter`"),
    f("offline_partitions", Ty::Int, "0", "more partitions without a leader for 5 minutes; kafka on MSK"),
];
pub static PATCH: &[FieldSpec] = &[
    req(
        "target",
        Ty::Str,
        "the object patched, `Kind/name` as the output names it (`Deployment/api`, `Rollout/web`, `Service/api`)",
    ),
    req(
        "file",
        Ty::RelPath,
        "the patch, a strategic merge patch or a JSON 6902 patch (kustomize tells them apart), in the team's `k8s/<env>/patches/`",
    ),
];
pub static ENVIRONMENT: &[FieldSpec] = &[
    f("namespace", Ty::Str, "\"<project>-<env>\"", "Kubernetes namespace"),
    f(
        "cluster",
        Ty::Str,
        "the hub",
        "cluster this environment runs on: a name (environments naming the same cluster share it; deployc creates one VPC and EKS cluster per name) or an existing cluster's API URL",
    ),
    f(
        "cloud",
        Ty::Tagged(CLOUDS),
        "the project's `cloud`",
        "cloud of the cluster this environment runs on (EKS, GKE or AKS); environments sharing a cluster share its cloud",
    ),
    f("domain", Ty::Host, "\"<project>-<env>.<project domain>\"", "DNS domain of this environment"),
    f("strategy", Ty::Strategy, "rolling", "how releases roll out here"),
    req("promote", Ty::Promotion, "how releases reach this environment"),
    f("production", Ty::Bool, "false", "marks a production environment (stricter checks)"),
    f("requires", Ty::List(&Ty::Ref(RefKind::Gate)), "[]", "gates that must pass before deploying here"),
    f("approvers", Ty::List(&Ty::Str), "[]", "users or teams who approve each deploy here: a manual promotion, or each push or tag that deploys (GitHub and GitLab environment reviewers, a Jenkins `input` submitter)"),
    f(
        "service_defaults",
        Ty::Struct(OVERRIDE),
        "{}",
        "overrides for every service here; a service's entry in `services` replaces them field by field",
    ),
    f("services", Ty::Keyed(RefKind::Service, &Ty::Struct(OVERRIDE)), "{}", "per-service overrides"),
    f("resources", Ty::Keyed(RefKind::Resource, &Ty::Struct(RESOURCE_OVERRIDE)), "{}", "per-resource overrides"),
    f("notify", Ty::List(&Ty::Ref(RefKind::Integration)), "[]", "integrations told about deploys here"),
    f("before", Ty::List(&Ty::Enum(&["backup", "migrations"])), "[migrations]", "steps run before deploying"),
    f(
        "after",
        Ty::List(&Ty::Enum(&[
            "smoke_tests",
            "health_check",
            "verification",
            "integration_tests",
            "performance_tests",
        ])),
        "[health_check]",
        "steps run after deploying: `smoke_tests` runs the toolchains' `smoke` commands against each public service (every route answers, without them), `integration_tests` and `performance_tests` their `integration` and `performance` commands",
    ),
    f("multi_az", Ty::Bool, "false", "spread managed resources over zones"),
    f(
        "edge",
        Ty::Struct(EDGE),
        "none",
        "edge protection of the environment's Application Load Balancer (AWS, services with `class = \"alb\"`): a WAF web ACL, Shield Advanced and a CloudFront CDN",
    ),
    f(
        "patches",
        Ty::List(&Ty::Struct(PATCH)),
        "[]",
        "the escape hatch: the team's patches of generated objects, applied by this environment's kustomization",
    ),
    f(
        "volume_backups",
        Ty::Struct(VOLUME_BACKUPS),
        "none",
        "Velero backups of the environment's namespace with snapshots of its persistent volumes (EKS clusters this output creates, E0436-E0438); with Sealed Secrets, the controller's keys are backed up too",
    ),
    f(
        "risk",
        Ty::Struct(RISK),
        "none",
        "use the canary strategy only for high-risk releases: a release is high-risk when a file matching `paths` changed since the environment's last verified release, a commit since then carries the `trailer`, or nothing was verified yet; any other release is promoted in full right after the sync, without the canary's steps, analysis or approval (a canary strategy, E0455; Jenkins, W0021)",
    ),
    f(
        "standby_of",
        Ty::Ref(RefKind::Environment),
        "none",
        "make this environment a warm standby of a production environment: Route 53 sends the primary's public host here when its health check fails, and until then a job here restores the primary's newest replicated database backup every 15 minutes (an AWS primary behind `edge { cdn }` with `recovery { region }` backups, a GCP standby, a `dns = route53` zone; E0459-E0461)",
    ),
];

pub static RISK: &[FieldSpec] = &[
    req(
        "paths",
        Ty::List(&Ty::Str),
        "patterns of the repository's files whose change makes a release high-risk, e.g. `[\"db/**\", \"migrations/**\"]` (bash patterns: `*` also crosses `/` in a pattern with a `/`; one without `/` matches files at the root; E0456, E0457)",
    ),
    f(
        "trailer",
        Ty::Str,
        "\"Risk: high\"",
        "a commit trailer that makes a release high-risk when any commit since the last verified release carries it (compared without regard to case; E0458)",
    ),
];

pub static VOLUME_BACKUPS: &[FieldSpec] = &[
    f(
        "schedule",
        Ty::Enum(&["every_30m", "hourly", "every_6h", "daily", "weekly"]),
        "daily",
        "how often Velero backs up the namespace and snapshots its volumes",
    ),
    f(
        "retain",
        Ty::Duration,
        "30d",
        "how long each backup and its snapshots are kept (the backup's TTL); at least one interval of `schedule` (E0438)",
    ),
];

pub static EDGE: &[FieldSpec] = &[
    f(
        "waf",
        Ty::Bool,
        "true",
        "an AWS WAF web ACL on the ALB: AWS managed rule groups (IP reputation, common, known bad inputs) and the per-IP rate limit, logged to CloudWatch Logs",
    ),
    f(
        "rate_limit",
        Ty::Int,
        "2000",
        "requests one client IP may send in any 5 minutes before the WAF blocks it (10 to 2000000000)",
    ),
    f(
        "shield",
        Ty::Bool,
        "false",
        "AWS Shield Advanced protection of the ALB (DDoS); the account needs a Shield Advanced subscription",
    ),
    f(
        "min_tls",
        Ty::Enum(&["tls12", "tls13"]),
        "tls12",
        "the oldest TLS version the ALB's HTTPS listener accepts: `tls12` (TLS 1.2 and 1.3, ELBSecurityPolicy-TLS13-1-2-2021-06) or `tls13` (TLS 1.3 only, ELBSecurityPolicy-TLS13-1-3-2021-06); needs a TLS `alb` Ingress (E0435); with `cdn`, the oldest version CloudFront accepts from viewers (`tls12` only, E0446)",
    ),
    f(
        "cdn",
        Ty::Struct(CDN),
        "none",
        "a CloudFront distribution in front of the environment's ALB: the public host points at CloudFront, which caches `paths` and passes everything else through uncached to the ALB by `origin.<host>` over HTTPS; the web ACL moves to CloudFront and the ALB admits CloudFront only (one TLS `alb` host, E0444)",
    ),
];

pub static CDN: &[FieldSpec] = &[req(
    "paths",
    Ty::List(&Ty::Str),
    "CloudFront path patterns cached at the edge, e.g. `[\"/static/*\", \"/assets/*\"]` (managed policy CachingOptimized); every other path is not cached (E0445)",
)];

// --------------------------------------------------------------- strategies

pub static ANALYSIS: &[FieldSpec] = &[
    f(
        "provider",
        Ty::Enum(&["prometheus", "newrelic", "datadog"]),
        "the program's metrics provider",
        "where metrics are queried",
    ),
    f("success_rate", Ty::Percent, "99%", "minimum share of successful requests"),
    f("max_latency", Ty::Duration, "", "maximum p99 latency"),
    f("interval", Ty::Duration, "1m", "time between measurements"),
    f("count", Ty::Int, "5", "measurements per analysis"),
    f("failure_limit", Ty::Int, "1", "failed measurements before abort"),
    f(
        "inconclusive_limit",
        Ty::Int,
        "1",
        "measurements without data (no traffic, no series) tolerated before the rollout pauses for a person",
    ),
    f(
        "metrics",
        Ty::Map(&Ty::Struct(CUSTOM_METRIC)),
        "{}",
        "custom metrics, each `NAME { query = ... success = ... }` in the provider's query language",
    ),
];
pub static CUSTOM_METRIC: &[FieldSpec] = &[
    req(
        "query",
        Ty::Str,
        "the query; `{{args.service-name}}` is the measured Service (canary, preview or active), `{{args.app}}` the service, `{{args.namespace}}`, `{{args.pod-hash}}` the new pods' pod-template-hash",
    ),
    req("success", Ty::Str, "Argo Rollouts condition on `result` for a passing measurement"),
    f(
        "failure",
        Ty::Str,
        "not success",
        "condition for a failing measurement; both only hold when there is data, otherwise the measurement is inconclusive",
    ),
];
pub static ABORT: &[FieldSpec] = &[
    f("error_rate", Ty::Percent, "", "abort when the error rate exceeds this"),
    f("latency", Ty::Duration, "", "abort when p99 latency exceeds this"),
];
pub static STRATEGIES: &[Variant] = &[
    v(
        "rolling",
        &[
            f("max_surge", Ty::Surge, "25%", "extra pods during the update"),
            f("max_unavailable", Ty::Surge, "0", "pods that may be down"),
        ],
        "a rolling Deployment update",
    ),
    v(
        "canary",
        &[
            req("steps", Ty::List(&Ty::Step), "weights, with optional pause(...) and analysis items"),
            f("pause", Ty::Pause, "", "pause after each weight but the last (duration or manual)"),
            f("analysis", Ty::Analysis, "", "background analysis against a metrics provider"),
            f("abort", Ty::Struct(ABORT), "", "abort thresholds, checked by the analysis"),
        ],
        "an Argo Rollouts canary",
    ),
    v(
        "blue_green",
        &[
            f("auto_promote", Ty::Bool, "false", "switch traffic without a manual promotion"),
            f("auto_promote_after", Ty::Duration, "", "switch automatically after this long"),
            f("scale_down_delay", Ty::Duration, "30s", "keep the old version this long after the switch"),
            f("analysis", Ty::Analysis, "", "pre-promotion analysis"),
            f(
                "analyze_after_switch",
                Ty::Bool,
                "false",
                "run the analysis again after the switch; a failure switches traffic back to the old version",
            ),
        ],
        "an Argo Rollouts blue-green",
    ),
];

// ------------------------------------------------------------------- gates

/// Gate tools: name, kind, and the toolchain families it understands (empty = any).
pub static GATE_TOOLS: &[(&str, &str, &[&str])] = &[
    ("gitleaks", "secrets", &[]),
    ("trufflehog", "secrets", &[]),
    ("detect-secrets", "secrets", &[]),
    ("codeql", "sast", &[]),
    ("semgrep", "sast", &[]),
    ("sonarqube", "sast", &[]),
    ("bandit", "sast", &["python"]),
    ("grype", "sca", &[]),
    ("snyk", "sca", &[]),
    ("safety", "sca", &["python"]),
    ("pip-audit", "sca", &["python"]),
    ("npm-audit", "sca", &["node"]),
    ("trivy", "container", &[]),
    ("checkov", "iac", &[]),
    ("tfsec", "iac", &[]),
    ("license-finder", "license", &[]),
    ("coverage", "coverage", &[]),
    ("eslint", "lint", &["node"]),
    ("ruff", "lint", &["python"]),
    ("flake8", "lint", &["python"]),
    ("golangci-lint", "lint", &["go"]),
    ("tsc", "types", &["node"]),
    ("mypy", "types", &["python"]),
    ("tests", "tests", &[]),
];
pub static GATE_KINDS: &[&str] =
    &["secrets", "sast", "sca", "container", "iac", "license", "coverage", "lint", "types", "tests"];
pub static GATE: &[FieldSpec] = &[
    f("kind", Ty::Enum(GATE_KINDS), "from the tool", "what the gate checks"),
    f("fail_on", Ty::Enum(&["low", "medium", "high", "critical"]), "high", "lowest severity that fails the gate"),
    f("min", Ty::Percent, "70% for coverage", "minimum, for coverage gates"),
    f("blocking", Ty::Bool, "true", "a failure stops the pipeline"),
    f("when", Ty::List(&Ty::Trigger), "[pull_request, push]", "when the gate runs"),
    f("services", Ty::List(&Ty::Ref(RefKind::Service)), "all services", "services the gate covers"),
    f("sarif", Ty::Bool, "true where supported", "upload SARIF to code scanning"),
    f("config", Ty::Str, "", "tool configuration file"),
];

// ------------------------------------------------------------- integrations

pub static INTEGRATIONS: &[Variant] = &[
    v(
        "slack",
        &[
            req("channel", Ty::Str, "channel, e.g. \"#deploys\""),
            req("webhook", Ty::Secret, "incoming webhook URL"),
            f(
                "events",
                Ty::List(&Ty::Enum(&["deploy", "failure", "promotion", "rollback"])),
                "[deploy, failure]",
                "what is announced",
            ),
        ],
        "Slack notifications",
    ),
    v(
        "jira",
        &[
            req("url", Ty::Str, "Jira base URL"),
            req("project", Ty::Str, "project key for deployment tickets"),
            req("token", Ty::Secret, "API token"),
        ],
        "Jira deployment tracking",
    ),
    v(
        "pagerduty",
        &[
            req("routing_key", Ty::Secret, "Events API v2 routing key"),
            f("severity", Ty::Enum(&["critical", "error", "warning", "info"]), "critical", "alert severity"),
        ],
        "PagerDuty paging",
    ),
    v(
        "opsgenie",
        &[
            req("api_key", Ty::Secret, "Alertmanager integration API key"),
            f(
                "severity",
                Ty::Enum(&["critical", "error", "warning", "info"]),
                "critical",
                "least severe alert that pages",
            ),
            f("region", Ty::Enum(&["us", "eu"]), "us", "Opsgenie instance"),
        ],
        "Opsgenie paging from Alertmanager",
    ),
    v(
        "newrelic",
        &[
            req("account_id", Ty::Str, "account id"),
            req("api_key", Ty::Secret, "query key"),
            f("region", Ty::Enum(&["us", "eu"]), "us", "data region"),
        ],
        "New Relic APM and canary analysis",
    ),
    v(
        "datadog",
        &[
            f("site", Ty::Str, "\"datadoghq.com\"", "Datadog site"),
            req("api_key", Ty::Secret, "API key"),
            req("app_key", Ty::Secret, "application key"),
        ],
        "Datadog APM, logs and analysis",
    ),
    v(
        "sentry",
        &[
            req("dsn", Ty::Secret, "DSN"),
            f("org", Ty::Str, "", "organisation slug"),
            f("project", Ty::Str, "", "project slug"),
            f(
                "auth_token",
                Ty::Secret,
                "",
                "token (scope `project:releases`) with which CI creates a release per deployed tag after a verified deploy; needs `org` and `project`",
            ),
        ],
        "Sentry error tracking",
    ),
    v("codecov", &[req("token", Ty::Secret, "upload token")], "Codecov coverage reports"),
];

// ----------------------------------------------------------------- pipeline

pub static PR_CHECKS: &[FieldSpec] = &[
    f("title", Ty::Bool, "false", "validate conventional-commit PR titles"),
    f("size_labels", Ty::Bool, "false", "label PRs by size"),
    f("coverage", Ty::Percent, "", "fail PRs below this coverage"),
    f("conflicts", Ty::Bool, "false", "detect merge conflicts"),
    f("auto_label", Ty::Bool, "false", "label PRs by changed paths"),
    f(
        "changed_files",
        Ty::Bool,
        "false",
        "summarise a PR's changed files by the services they rebuild (the build contexts, and every service for a shared file), as incremental builds decide",
    ),
    f(
        "complexity",
        Ty::Int,
        "",
        "fail a PR that adds or changes a function whose cyclomatic complexity exceeds this (lizard, in the changed files only; at least 1, E0452)",
    ),
    f(
        "benchmarks",
        Ty::Percent,
        "",
        "fail a PR whose benchmark results are this much worse than the default branch's latest (50%: 1.5 times as slow); runs each toolchain's `benchmark` (E0451 without one)",
    ),
];
pub static BENCHMARK: &[FieldSpec] = &[
    req("command", Ty::Str, "runs the benchmarks in the service's build context"),
    req("output", Ty::Str, "the results file the command writes, relative to the build context"),
    req(
        "format",
        Ty::Enum(&[
            "pytest",
            "go",
            "cargo",
            "benchmarkjs",
            "benchmarkdotnet",
            "googlecpp",
            "catch2",
            "julia",
            "custom_bigger_is_better",
            "custom_smaller_is_better",
        ]),
        "the results file's format: pytest-benchmark's JSON, `go test -bench` output, ..., or a JSON list of `{ name unit value }` (custom_*)",
    ),
];
pub static PIPELINE: &[FieldSpec] = &[
    f("provider", Ty::Enum(&["github_actions", "jenkins", "gitlab"]), "github_actions", "CI system"),
    f("triggers", Ty::List(&Ty::Trigger), "[push(\"main\"), pull_request]", "when CI runs"),
    f("platforms", Ty::List(&Ty::Enum(&["amd64", "arm64"])), "[amd64]", "image architectures"),
    f("sbom", Ty::Bool, "false", "generate an SBOM for each image"),
    f("tags", Ty::List(&Ty::Enum(&["latest", "branch_sha", "sha", "semver"])), "[branch_sha]", "image tag policy"),
    f("cache", Ty::Bool, "true", "build layer cache"),
    f(
        "incremental",
        Ty::Bool,
        "false",
        "build and push only the services whose build context changed since the image each deployed environment runs",
    ),
    f("pr_checks", Ty::Struct(PR_CHECKS), "", "pull-request checks"),
    f("pre_commit", Ty::Bool, "false", "run pre-commit hooks in CI"),
    f("workflows_dir", Ty::RelPath, "\".github/workflows\"", "where workflows are written, inside the output tree"),
    f(
        "actions",
        Ty::Map(&Ty::Str),
        "{}",
        "pins replacing stdlib/actions.toml: `NAME = \"<40-hex commit> <tag>\"`, NAME an action repository without its owner (`checkout`)",
    ),
    f(
        "maintenance",
        Ty::Struct(MAINTENANCE),
        "none",
        "scheduled update pull requests for the services' dependencies and Dockerfile base images (`.github/dependabot.yml`; the repository on GitHub, W0019)",
    ),
];

pub static MAINTENANCE: &[FieldSpec] = &[
    f(
        "dependencies",
        Ty::Enum(&["daily", "weekly", "monthly", "never"]),
        "weekly",
        "how often each service's package manifests (from its toolchain: npm, pip, Go modules, Maven, Gradle) get update pull requests, minor and patch updates grouped in one",
    ),
    f(
        "base_images",
        Ty::Enum(&["daily", "weekly", "monthly", "never"]),
        "monthly",
        "how often each service's Dockerfile `FROM` images get update pull requests (patched base images)",
    ),
];

// ------------------------------------------------------------ observability

pub static METRICS: &[Variant] = &[v(
    "prometheus",
    &[
        f("scrape_interval", Ty::Duration, "30s", "scrape interval"),
        f("path", Ty::Str, "\"/metrics\"", "metrics path"),
        f(
            "address",
            Ty::Str,
            "\"http://prometheus-operated.monitoring.svc.cluster.local:9090\"",
            "where the canary analysis queries Prometheus",
        ),
        f(
            "selector_labels",
            Ty::Map(&Ty::Str),
            "{ release = \"kube-prometheus-stack\" }",
            "labels on every ServiceMonitor, matching the Prometheus serviceMonitorSelector",
        ),
    ],
    "Prometheus Operator ServiceMonitors",
)];
pub static TRACING: &[Variant] = &[
    v(
        "jaeger",
        &[
            req("endpoint", Ty::Str, "Jaeger collector; traces go to its OTLP gRPC port (4317) on the same host"),
            f("sampling", Ty::Percent, "100%", "share of traces kept outside production"),
            f("production_sampling", Ty::Percent, "10%", "share of traces kept in production environments"),
        ],
        "Jaeger, through an OpenTelemetry Collector per environment",
    ),
    v(
        "otlp",
        &[
            req("endpoint", Ty::Str, "OTLP/HTTP endpoint (Tempo, a vendor, another collector)"),
            f("sampling", Ty::Percent, "100%", "share of traces kept outside production"),
            f("production_sampling", Ty::Percent, "10%", "share of traces kept in production environments"),
        ],
        "an OTLP endpoint, through an OpenTelemetry Collector per environment",
    ),
];
pub static LOGS: &[Variant] = &[
    v(
        "elk",
        &[
            req("endpoint", Ty::Str, "Elasticsearch endpoint"),
            f("user", Ty::Str, "", "basic-auth user Fluent Bit sends (letters, digits and `._@+-`, E0397); needs `password` (E0396)"),
            f("password", Ty::Secret, "", "basic-auth password: the `password` key of this Secret from the secret store, read by Fluent Bit in its namespace"),
        ],
        "ELK stack",
    ),
    v(
        "loki",
        &[
            req("endpoint", Ty::Str, "Loki push endpoint"),
            f("user", Ty::Str, "", "basic-auth user Fluent Bit sends (letters, digits and `._@+-`, E0397); needs `password` (E0396)"),
            f("password", Ty::Secret, "", "basic-auth password: the `password` key of this Secret from the secret store, read by Fluent Bit in its namespace"),
        ],
        "Grafana Loki",
    ),
    v("cloudwatch", &[f("group", Ty::Str, "project name", "log group")], "CloudWatch Logs"),
    v("datadog", &[], "Datadog logs"),
];
pub static ALERTS: &[FieldSpec] = &[
    f("crash_loop", Ty::Bool, "false", "pods restarting repeatedly"),
    f("error_rate", Ty::Percent, "", "5xx share above this"),
    f("latency", Ty::Duration, "", "p99 latency above this"),
    f("cert_expiry", Ty::Duration, "", "certificates expiring within this"),
    f("resource_exhaustion", Ty::Percent, "", "cpu or memory use above this share of the limit"),
    f("database_down", Ty::Bool, "false", "database connectivity lost"),
    f("route_to", Ty::List(&Ty::Ref(RefKind::Integration)), "[]", "integrations alerts are sent to"),
];
pub static OBSERVABILITY: &[FieldSpec] = &[
    f("metrics", Ty::Tagged(METRICS), "", "metrics scraping"),
    f("dashboards", Ty::Enum(&["grafana"]), "", "dashboards"),
    f("alerts", Ty::Struct(ALERTS), "", "alert rules"),
    f("tracing", Ty::Tagged(TRACING), "", "tracing sink"),
    f("logs", Ty::Tagged(LOGS), "", "log sink"),
    f(
        "custom_metrics",
        Ty::List(&Ty::Struct(APP_METRIC)),
        "[]",
        "metrics several services expose themselves, charted per service on each environment's business dashboard (E0393-E0395)",
    ),
];

/// A metric the application exposes (`custom_metrics`).
pub static SLO: &[FieldSpec] = &[
    req(
        "availability",
        Ty::Percent,
        "share of requests answered without a 5xx over the window (above 0% and below 100%)",
    ),
    f(
        "window",
        Ty::Duration,
        "30d",
        "the rolling window the objective and its error budget are measured over (1d to 90d)",
    ),
];

pub static APP_METRIC: &[FieldSpec] = &[
    req("name", Ty::Str, "the Prometheus metric name the application exposes: letters, digits and `_`; a counter's ends in `_total` (E0393, E0394)"),
    req("kind", Ty::Enum(&["counter", "gauge", "histogram"]), "a counter is charted as a rate, a gauge as its value, a histogram as its p50 and p99"),
    f("description", Ty::Str, "the name", "what it counts or measures: the panel's title"),
];

// ---------------------------------------------------------------- toolchain

pub static TOOLCHAIN: &[FieldSpec] = &[
    req("family", Ty::Enum(&["node", "python", "go", "java"]), "runtime family, decides which gate tools fit"),
    f("version", Ty::Str, "", "runtime version"),
    f("install", Ty::Str, "", "install dependencies"),
    f("lint", Ty::List(&Ty::Str), "[]", "lint commands"),
    f("typecheck", Ty::List(&Ty::Str), "[]", "type-check commands"),
    f("test", Ty::List(&Ty::Str), "[]", "unit test commands, run in CI"),
    f(
        "integration",
        Ty::List(&Ty::Str),
        "[]",
        "integration test commands: a CI stage of their own with the service's databases and caches as service containers (`DATABASE_URL`, `REDIS_URL`, `MONGODB_URL`), and after a deploy where `after` lists `integration_tests`, against `BASE_URL`",
    ),
    f(
        "smoke",
        Ty::List(&Ty::Str),
        "[]",
        "smoke test commands, run after a deploy where `after` lists `smoke_tests`, against the service's public URL in `BASE_URL`",
    ),
    f(
        "performance",
        Ty::List(&Ty::Str),
        "[]",
        "performance test commands, run after a deploy where `after` lists `performance_tests`, against `BASE_URL`",
    ),
    f("coverage", Ty::Str, "", "coverage command"),
    f("build", Ty::Str, "", "build command"),
    f("cache", Ty::Str, "", "package-manager cache kind for CI"),
    f(
        "benchmark",
        Ty::Struct(BENCHMARK),
        "",
        "benchmarks the pull-request check `benchmarks` compares with the default branch's",
    ),
];

/// The declaration keywords, with the body each takes.
pub enum DeclShape {
    /// `KW NAME { fields }`
    Named(&'static [FieldSpec]),
    /// `KW NAME = tag { fields }`
    NamedTagged(&'static [Variant]),
    /// `KW { fields }`, at most once per program.
    Singleton(&'static [FieldSpec]),
}

pub fn decl_shape(keyword: &str) -> Option<DeclShape> {
    Some(match keyword {
        "project" => DeclShape::Named(PROJECT),
        "service" => DeclShape::Named(SERVICE),
        // A preset has a service's fields, all optional (see `PRESET_EXCLUDED`).
        "preset" => DeclShape::Named(SERVICE),
        "resource" => DeclShape::NamedTagged(RESOURCES),
        "environment" => DeclShape::Named(ENVIRONMENT),
        "strategy" => DeclShape::NamedTagged(STRATEGIES),
        "gate" => DeclShape::NamedTagged(GATE_VARIANTS),
        "integration" => DeclShape::NamedTagged(INTEGRATIONS),
        "toolchain" => DeclShape::Named(TOOLCHAIN),
        "pipeline" => DeclShape::Singleton(PIPELINE),
        "observability" => DeclShape::Singleton(OBSERVABILITY),
        _ => return None,
    })
}

/// Service fields a preset cannot carry, with the reason given in E0215.
pub static PRESET_EXCLUDED: &[(&str, &str)] = &[
    ("image", "every service extending the preset would build into, and deploy, one image repository"),
    (
        "migrations",
        "every service extending the preset would run the same migrations against the same database before its rollout",
    ),
];

/// Gates are `gate NAME = tool { ... }`; every tool takes the same fields.
pub static GATE_VARIANTS: &[Variant] = &{
    const fn tool(tag: &'static str) -> Variant {
        Variant { tag, fields: GATE, doc: "" }
    }
    [
        tool("gitleaks"),
        tool("trufflehog"),
        tool("detect-secrets"),
        tool("codeql"),
        tool("semgrep"),
        tool("sonarqube"),
        tool("bandit"),
        tool("grype"),
        tool("snyk"),
        tool("safety"),
        tool("pip-audit"),
        tool("npm-audit"),
        tool("trivy"),
        tool("checkov"),
        tool("tfsec"),
        tool("license-finder"),
        tool("coverage"),
        tool("eslint"),
        tool("ruff"),
        tool("flake8"),
        tool("golangci-lint"),
        tool("tsc"),
        tool("mypy"),
        tool("tests"),
    ]
};

/// Attributes a reference may read from a resource of the given engine.
pub fn resource_attrs(engine: &str) -> &'static [&'static str] {
    match engine {
        "postgres" | "mongodb" => &["url", "host", "port", "name", "address", "user", "password", "database"],
        "redis" => &["url", "host", "port", "name", "address", "user", "password"],
        "queue" => &["url", "arn", "name"],
        "bucket" => &["name", "arn", "url"],
        "kafka" => &["url", "host", "port"],
        _ => &[],
    }
}
pub static SERVICE_ATTRS: &[&str] = &["url", "address", "host", "port"];
pub static PROJECT_ATTRS: &[&str] = &["name", "domain", "repository"];
pub static ENV_ATTRS: &[&str] = &["name", "namespace", "domain"];
