//! The registry of diagnostic codes: the one place where each code gets its
//! severity, its default help line and its long explanation. `deployc explain`,
//! the checker and the docs all read this table.

use serde::Serialize;

/// How bad a diagnostic is; each code has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// What the registry knows about one code.
pub struct CodeInfo {
    pub code: Code,
    pub severity: Severity,
    pub title: &'static str,
    pub help: &'static str,
    pub explanation: &'static str,
}

macro_rules! codes {
    ($( $variant:ident = $text:literal, $sev:ident, $title:literal, $help:literal, $expl:literal; )*) => {
        /// A stable diagnostic code (`E0xxx` errors, `W0xxx` warnings).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $( $variant, )* }

        /// Every code, in registry order.
        pub static REGISTRY: &[CodeInfo] = &[
            $( CodeInfo { code: Code::$variant, severity: Severity::$sev, title: $title, help: $help, explanation: $expl }, )*
        ];

        impl Code {
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $text, )* }
            }
        }
    };
}

impl Code {
    pub fn info(self) -> &'static CodeInfo {
        // The registry is generated in enum order, so the discriminant is the index.
        &REGISTRY[self as usize]
    }
    pub fn severity(self) -> Severity {
        self.info().severity
    }
    pub fn parse(text: &str) -> Option<Code> {
        let t = text.trim().to_ascii_uppercase();
        REGISTRY.iter().find(|i| i.code.as_str() == t).map(|i| i.code)
    }
}

codes! {
    // ---------------------------------------------------------------- syntax
    E0001 = "E0001", Error, "unexpected character",
        "Remove the character; identifiers, numbers, strings and `{ } [ ] ( ) = , . ..` are the only tokens.",
        "The lexer met a character that cannot start any token of the language, such as `@` or `!`.\n\nExample:\n\n    service api { port = @8080 }\n\nFix: remove the stray character.";
    E0002 = "E0002", Error, "unterminated string",
        "Close the string with a `\"` on the same line.",
        "A string literal was opened with `\"` but the line (or file) ended before the closing quote.\nStrings cannot span lines; use `\\n` for a newline inside one.";
    E0003 = "E0003", Error, "unexpected token",
        "Check the syntax around this point against grammar/deployc.ebnf.",
        "The parser expected a different token here: for example a `=` after a field name, or a value after `=`.\nThe parser skips to the next field or declaration and keeps going, so every syntax error of the file is reported in one run.";
    E0004 = "E0004", Error, "unclosed delimiter",
        "Add the matching closing delimiter.",
        "A `{`, `[` or `(` was opened and the file ended before it was closed.";
    E0005 = "E0005", Error, "invalid number or unit",
        "Use a plain number or one of the units m, Ki, Mi, Gi, Ti, K, M, G, ms, s, h, d, w, %.",
        "A number carried a suffix that is not a unit deployc knows, e.g. `512MB` (write `512Mi`) or `5min` (write `5m`).";
    E0006 = "E0006", Error, "invalid interpolation",
        "Write an interpolation as `${name}` or `${name.attribute}`.",
        "Inside a string, `${` starts an interpolation that must hold a dotted name and end with `}`.\nTo write a literal `${`, escape the dollar: `\\${`.";
    E0007 = "E0007", Error, "unknown declaration keyword",
        "Top-level items start with project, service, resource, environment, strategy, gate, integration, pipeline, observability, toolchain or import.",
        "Every top-level item begins with a keyword naming what it declares. An unknown keyword is usually a typo.";
    E0008 = "E0008", Error, "file is not UTF-8",
        "Save the file as UTF-8 (most editors offer \"Save with encoding\").",
        "deployc reads programs as UTF-8. The file holds a byte sequence that is not valid UTF-8, often a Latin-1 or Windows-1252 character such as `é` saved by an old editor.\nThe first invalid sequence is marked (shown as U+FFFD); the rest of the file is still checked. A UTF-8 byte-order mark at the start is allowed.";
    E0009 = "E0009", Error, "unknown escape sequence",
        "The escapes are `\\n`, `\\t`, `\\\"`, `\\\\` and `\\$`; write `\\\\` for a literal backslash.",
        "Inside a string, `\\` starts an escape. Only `\\n` (newline), `\\t` (tab), `\\\"` (quote), `\\\\` (backslash) and `\\$` (dollar, to write a literal `${`) exist.\nAn unknown escape such as `\\q` is an error rather than silently dropped, so a Windows path or a regular expression is not changed behind your back.";
    // --------------------------------------------------------------- modules
    E0101 = "E0101", Error, "import not found",
        "Import a file relative to this one (\"./common.dpl\") or a standard module (\"std/strategies\").",
        "An `import` names a file that does not exist or a standard-library module that deployc does not ship.\nRun `deployc explain E0101` to see the list of standard modules in grammar/README.md.";
    E0102 = "E0102", Error, "import cycle",
        "Move the shared declarations into a third file that both import.",
        "Files import each other in a cycle. deployc reports the whole cycle, file by file.";
    // ----------------------------------------------------------------- names
    E0201 = "E0201", Error, "unknown name",
        "Declare it, import the module that declares it, or fix the spelling.",
        "A reference names nothing declared in this program or its imports, or names a declaration of the wrong kind (a gate where an environment is expected).";
    E0202 = "E0202", Error, "duplicate definition",
        "Rename one of the two, or remove the duplicate.",
        "Two declarations of the same kind share a name (also across imported files). Names are global per kind.";
    E0203 = "E0203", Error, "unknown field",
        "See grammar/README.md for the fields this block accepts.",
        "A block contains a field that its declaration does not define. Unknown fields are rejected rather than ignored so that typos cannot silently drop configuration.";
    E0204 = "E0204", Error, "missing required field",
        "Add the field; grammar/README.md lists which fields are required.",
        "A declaration lacks a field that has no sensible default, such as a service's `port`.";
    E0205 = "E0205", Error, "unknown attribute",
        "Use one of the attributes the referenced declaration exposes.",
        "A reference such as `db.url` names an attribute the target does not have. Databases and caches expose url, host, port; queues and buckets name, arn, url; services url, address, host, port.";
    E0206 = "E0206", Error, "invalid Kubernetes name",
        "Use lowercase letters, digits and `-`, start with a letter, end with a letter or digit, at most 63 characters.",
        "Names of projects, services, resources and environments become Kubernetes object names and DNS labels (RFC 1035), so they must be valid ones.";
    E0207 = "E0207", Error, "duplicate field",
        "Remove one of the two assignments.",
        "A field is given twice in the same block, or an argument twice in the same call (`manual(from = a, from = b)`); deployc does not let the second silently win.";
    E0208 = "E0208", Error, "unknown variant",
        "Use one of the variants the field accepts.",
        "A field that takes one of a fixed set of names (an engine, a tool, a strategy kind, a registry) was given a name outside the set.";
    E0209 = "E0209", Error, "missing or repeated project",
        "Declare exactly one `project NAME { ... }` block.",
        "A program has exactly one project declaration, which names the repository, registry and GitOps engine.";
    E0220 = "E0220", Error, "preset cycle",
        "Make one preset of the cycle stand alone: remove its `extends`.",
        "Presets extend each other in a cycle (`preset a { extends = b }`, `preset b { extends = a }`), so no preset of it has a first set of fields to start from. deployc prints the whole cycle.";
    E0221 = "E0221", Error, "field a preset cannot carry",
        "Move the field into each service that extends the preset.",
        "A preset holds what several services share. A field that belongs to one service only (its `image`, its `migrations`) cannot be in a preset: every service extending it would build into one image repository, or run the same migrations, which is never what a team means.";
    E0230 = "E0230", Error, "patch target not in the output",
        "Aim the patch at an object the environment's output has, written `Kind/name` (`Deployment/api`).",
        "An environment's `patches` entry names its target as `Kind/name`, and that object must be one deployc generates for the environment: a patch kustomize cannot apply fails every sync, so the compiler refuses it. A service on a canary or blue-green strategy runs as a `Rollout`, not a `Deployment`; the diagnostic names the closest object the output has.";
    // ----------------------------------------------------------------- types
    E0301 = "E0301", Error, "type mismatch",
        "Give the field a value of the expected type.",
        "A field received a value of the wrong type, e.g. a string where a number is expected, or a list where a single value is expected.";
    E0302 = "E0302", Error, "wrong unit",
        "Use a unit that fits the field: cpu 250m/1, memory 512Mi/1Gi, duration 30s/5m/6h/30d, percentage 10%.",
        "A quantity's unit does not fit the field: `memory = 500m` (millicores), `pause = 10%`. A unit-less number is accepted for cpu (cores) and replica counts only.";
    E0303 = "E0303", Error, "value out of range",
        "Use a value inside the allowed range.",
        "A value is outside what its field allows: ports 1–65535, percentages 0–100%, replica counts 0–1000, positive durations; AWS account ids of 12 digits, regions, zones, project ids, machine types, VM sizes, Kubernetes versions and the Vault address in the form their provider takes (`us-east-1`, `us-east-1a`, `us-central1`, `acme-prod-1`, `m6i.large`, `Standard_D4s_v5`, `1.33`, `https://vault.example.com:8200`), and the repository as `HOST/OWNER/NAME`, since host names, ARNs, trust policies, provider blocks and CRDs of the output carry them as written.";
    E0304 = "E0304", Error, "invalid range",
        "Write the smaller bound first: `min..max`.",
        "A range has its lower bound above its upper bound (e.g. `replicas = 10..2`, `cpu = 1..250m`).";
    E0305 = "E0305", Error, "control character in a single-line value",
        "Remove the newline, tab or other control character; this value must be one line of text.",
        "Hosts, domains, repositories, images, cluster URLs, names and other single-line settings end up in YAML keys and comments, shell commands, Groovy strings and Terraform expressions. A newline or another control character there could change the structure of a generated file, so it is rejected where it is written.\nFree text that may span lines (environment variable values) is not affected.";
    E0306 = "E0306", Error, "path leaves its tree",
        "Write a relative path without `..`, such as \".github/workflows\" or \"deploy/out\".",
        "Some settings name a place inside a tree: `workflows_dir` inside the output, Argo CD's `path` inside the repository. An absolute path or a `..` segment could point outside it (and make a build write elsewhere), so they are rejected.";
    E0307 = "E0307", Error, "invalid Kafka topic name",
        "Use 1 to 249 characters from letters, digits, `.`, `_` and `-`, not `.` or `..` alone.",
        "A topic name is what Kafka accepts (letters, digits, `.`, `_`, `-`, at most 249 characters, and neither `.` nor `..`); deployc also names the topic's KafkaTopic object after it (lowercase, `_` as `-`), so two topics that differ only in case or in `_`/`-` would collide and are rejected too.\n\nExample:\n\n    resource events = kafka { topics = [\"orders v2\"] }   // a space: rejected";
    E0310 = "E0310", Error, "invalid image reference",
        "Write a repository name to build here (\"team/api\") or a full reference with one tag or a digest (\"argoproj/rollouts-demo:blue\").",
        "A service's `image` is either the name of a repository CI builds and pushes to the project's registry (no registry host, no tag: CD sets the tag per environment), or the full reference of a prebuilt image, deployed exactly as written: `[registry/]repository[:tag][@digest]`.\n\nThe reference is checked as container runtimes parse it: one tag of letters, digits, `_`, `.`, `-`; a digest `sha256:` + 64 lowercase hex digits; a lower-case repository; no empty part. A reference naming another registry must have a tag or digest.\n\nThe project's registry starts every reference of an image built here, so its `ghcr { owner }` must be a GitHub user or organisation name (letters, digits, single hyphens; written in lower case in the references) and its `dockerhub { namespace }` one lowercase repository part.\n\nExample:\n\n    service demo { image = \"argoproj/rollouts-demo:blue:v2\" }   // two tags: rejected";
    E0311 = "E0311", Error, "build settings on a prebuilt image",
        "Remove `language` and `build`, or write `image` without a tag to build it from this repository.",
        "An `image` with a tag or a digest is a prebuilt image: CI neither builds nor lints it, and CD deploys it as written. `language` (which drives lint, type-check and tests) and `build` (how the image is built) would be silently ignored, so they are refused.\n\nExample:\n\n    service redis { image = \"redis:7.2-alpine\"  language = node }   // rejected";
    E0330 = "E0330", Error, "invalid branch name",
        "Write the branch as git names it, e.g. \"main\", \"develop\" or \"release/1.2\".",
        "A branch (the project's `branch`, `on_push(...)`) must be a name `git check-ref-format --branch` accepts, without quotes, `$`, `{` or `}`: it is written into workflow `on.push.branches` filters, `if:` conditions, a Jenkinsfile's `branch '...'` and shell commands.\n\nExample:\n\n    promote = on_push(\"main branch\")   // a space: rejected\n    promote = on_push(\"main\")          // accepted";
    E0331 = "E0331", Error, "not a DNS host name",
        "Write a lowercase DNS name such as \"api.example.com\" or \"api.${env.domain}\".",
        "Domains, zones and ingress hosts become Ingress rules, certificates, DNS records and URLs in pipelines: they must be DNS names (lowercase letters, digits, `-` and `.`; an ingress host may start with `*.`). Interpolated parts are checked where they are defined.\n\nExample:\n\n    domain = \"Shop Example\"      // rejected\n    domain = \"shop.example.com\"  // accepted";
    E0332 = "E0332", Error, "not an absolute URL path",
        "Write a path such as \"/\", \"/api\" or \"/healthz\"; percent-encode other characters.",
        "Ingress paths and HTTP probe paths start with `/` and hold letters, digits and `-._~/%?=&+:@,` (ingress controllers such as ingress-nginx refuse other characters in paths). Percent-encode anything else.\n\nExample:\n\n    health = http { path = \"healthz\" }   // rejected: no leading /\n    health = http { path = \"/healthz\" }  // accepted";
    E0333 = "E0333", Error, "invalid local development setting",
        "Write `sync` as an absolute path in the container (\"/app\"), give `command` at least one word, and give each service its own `port`.",
        "A service's `local { ... }` block says how it runs in the generated `compose/docker-compose.yml`. `sync` is the folder inside the container the build context is copied to when a file changes (Compose Watch), so it must be an absolute path; `command` replaces the image's command and cannot be empty; `port` is the port on the developer's machine (bound to 127.0.0.1), and two services cannot both listen on it.\n\nExample:\n\n    service api { local { sync = \"app\" port = 3000 } }   // sync: not absolute\n    service web { local { port = 3000 } }                  // port 3000 taken by api";
    E0334 = "E0334", Error, "invalid allowed registry",
        "Write the beginning of the allowed image names, such as \"public.ecr.aws/acme/\", without pattern characters.",
        "`policy = kyverno { registries = [...] }` names image prefixes the admission policy allows besides the program's registry and the engine images deployc itself runs. Each becomes `PREFIX*` in a Kyverno pattern, where `*`, `?`, `|`, `!`, `&`, `<`, `>`, `=`, parentheses and spaces are operators: one of them in a prefix would widen or break the rule, so they are rejected, as is an empty prefix (which would allow every image).\n\nExample:\n\n    policy = kyverno { registries = [\"docker.io/* | quay.io\"] }   // rejected";
    E0340 = "E0340", Error, "recovery point objective not met",
        "Back up at least as often as the RPO (`backup { schedule = hourly }`), or raise the RPO to what the backups give.",
        "`recovery { rpo = ... }` on a database or cache is the most recent data a restore may lose. deployc compares it, in every environment, with what the backups it generates give: in the cluster, the backup CronJob's schedule (an `every_6h` schedule can lose six hours); managed PostgreSQL (RDS, Aurora) and DocumentDB restore to a point in time about five minutes back; ElastiCache keeps one snapshot a day. In a production environment of a resource with `recovery { region = ... }`, a failover to that region loses more: the newest copy there is one backup interval (AWS Backup runs at most hourly) plus the copy's 15 minutes old, so an RPO of 1h needs `schedule = every_30m` in the cluster. A resource with an RPO and no `backup` is refused too.\n\nExample:\n\n    resource db = mongodb {\n      placement = in_cluster\n      backup   { schedule = every_6h }\n      recovery { rpo = 1h }   // six-hourly dumps can lose six hours\n    }";
    E0350 = "E0350", Error, "vertical and horizontal autoscalers fight",
        "Use `vpa = recommend` beside a replica range, or fixed replicas with `vpa = initial`.",
        "A Vertical Pod Autoscaler in `initial` mode sets each new pod's cpu and memory requests from its recommendation; an HPA scales the same pods on cpu utilisation, which is measured against those requests. Together, each change of requests moves the utilisation the HPA acts on, and the two chase each other. `vpa = recommend` only reports recommendations (updateMode Off) and is allowed with an HPA.\n\nExample:\n\n    service api { replicas = 2..10  vpa = initial }   // rejected";
    // ---- workload kinds (issue 11)
    E0360 = "E0360", Error, "cron job without a valid schedule",
        "Write `schedule = \"0 3 * * *\"` (minute hour day-of-month month day-of-week, UTC).",
        "A service with `kind = cron` becomes a Kubernetes CronJob, which needs a schedule: five fields, minute (0-59), hour (0-23), day of month (1-31), month (1-12 or jan-dec) and day of week (0-7 or sun-sat), each `*`, a number, a range `a-b`, a list `a,b` or a step `*/n`. Kubernetes reads it in the controller's time zone, which is UTC on managed clusters.\n\nExample:\n\n    service nightly { kind = cron }                          // rejected: no schedule\n    service nightly { kind = cron  schedule = \"0 3 * * *\" }  // every night at 03:00";
    E0361 = "E0361", Error, "a worker or job with a port",
        "Remove `port`, `service_port` and `expose`; a process that serves a port is a `kind = service`.",
        "A `worker` (a long-running consumer), a `job` and a `cron` job take no connections: they get no Service, no Ingress and no NetworkPolicy ingress. A `port`, `service_port` or `expose` on one would promise an address nothing provides.\n\nExample:\n\n    service consumer { kind = worker  port = 8080 }   // rejected";
    E0362 = "E0362", Error, "probe without a port",
        "Give the probe its port (`http { path = \"/healthz\" port = 9090 }`) or use `exec { command = [...] }`.",
        "An `http`, `grpc` or `tcp` probe checks the workload's port unless it names one. A worker, job or cron job has none, and neither has a service without `port`: such a probe must name its port, or be an `exec` probe.\n\nExample:\n\n    service consumer { kind = worker  health = http { path = \"/healthz\" } }   // rejected";
    E0363 = "E0363", Error, "job setting on a long-running workload",
        "Set `kind = cron` for `schedule` and `concurrency`, `kind = job` or `kind = cron` for `retries` and `deadline`.",
        "`schedule` and `concurrency` belong to cron jobs, `retries` (backoffLimit) and `deadline` (activeDeadlineSeconds) to jobs and cron jobs. On a service or worker they would do nothing.\n\nExample:\n\n    service api { port = 8080  schedule = \"0 3 * * *\" }   // rejected";
    E0364 = "E0364", Error, "strategy a workload cannot roll out with",
        "Remove `strategy` from the worker, job or cron job.",
        "A service's `strategy` replaces its environments' strategy for it. Canary and blue-green split traffic and analyse it: a worker takes none, so it rolls out with a rolling update (a progressive environment gives its workers the default rolling update). A job or cron job runs its pods to completion and has no rollout at all.\n\nExample:\n\n    service consumer { kind = worker  strategy = canary { steps = [20%, 100%] } }   // rejected";
    E0365 = "E0365", Error, "port or Service that cannot be named",
        "Give each extra port its own name and number, and each extra Service its own DNS name serving declared ports.",
        "A workload's `ports` stand beside its main `port` (named `http`): each has a port name Kubernetes accepts (at most 15 lowercase letters, digits and `-`, with a letter), not `http`, and a number of its own. Its `services` stand beside the main Service (named after the workload, typed by `expose`) and the canary or preview Service: each needs a DNS name none of them has, and serves ports by name. `canary_service` and `preview_service` are DNS names other than the workload's. A workload without a main `port` has neither.\n\nExample:\n\n    service frontend {\n      port     = 8080\n      services = [{ name = \"frontend\" type = load_balancer }]   // rejected: the main Service's name\n    }";
    E0366 = "E0366", Error, "address of a workload without a port",
        "Reach a worker through what it consumes (a queue, a database), or give the service a `port`.",
        "`other.url`, `other.address`, `other.host` and `other.port` name the Service in front of `other`. A worker, a job, a cron job or a service without `port` has no Service: the value would be an address nothing listens on.\n\nExample:\n\n    service consumer { kind = worker  language = python }\n    service api { language = node  port = 8080  env { CONSUMER_URL = consumer.url } }   // rejected";
    E0385 = "E0385", Error, "log endpoint Fluent Bit cannot reach",
        "Write the endpoint as `https://host[:port][/path]` (or `http://`): a DNS name or IPv4 address, a port from 1 to 65535, a path of letters, digits and `-._~/`.",
        "`logs = elk { endpoint = .. }` and `logs = loki { endpoint = .. }` become the host, port, TLS switch and path of Fluent Bit outputs, one configuration line each. An endpoint without a scheme, with credentials, a query, spaces or other characters would either be read differently by Fluent Bit or break its configuration, so it is rejected at compile time. Credentials do not belong in the URL.\n\nExample:\n\n    observability { logs = elk { endpoint = \"elasticsearch:9200\" } }   // rejected: no scheme\n    observability { logs = elk { endpoint = \"https://elasticsearch.logging.svc.cluster.local:9200\" } }";
    E0386 = "E0386", Error, "invalid CloudWatch log group",
        "Name the log group with letters, digits and `_-/.#` (at most 480 characters, not under `aws/`); deployc appends `/<environment>`.",
        "`logs = cloudwatch { group = .. }` names the CloudWatch Logs group each environment ships to, as `<group>/<environment>`: Terraform creates it (retention, KMS) and Fluent Bit writes to it. CloudWatch accepts only `A-Za-z0-9_-/.#` and reserves the `aws/` prefix.\n\nExample:\n\n    observability { logs = cloudwatch { group = \"shop logs\" } }   // rejected: a space\n    observability { logs = cloudwatch { group = \"shop\" } }";
    E0370 = "E0370", Error, "invalid Kubernetes label",
        "Write a label key as `[prefix/]name` (name: letters, digits, `-_.`, 63 characters at most, alphanumeric at both ends; prefix: a lowercase DNS subdomain) and a value the same way as the name, or empty.",
        "Pod `labels` and `node_selector` entries become Kubernetes labels and label selectors; the API server rejects a key or value outside the label syntax when the manifests are applied, long after the build. deployc checks them at compile time. Keys with a prefix are written quoted.\n\nExample:\n\n    labels { \"Example.com/team\" = \"cart service\" }   // rejected: uppercase prefix, space in the value\n    labels { \"example.com/team\" = \"cart\" }";
    E0371 = "E0371", Error, "invalid Kubernetes annotation key",
        "Write an annotation key as `[prefix/]name`, like a label key; the value may be any text.",
        "Pod `annotations` keys follow the label key syntax (an optional lowercase DNS-subdomain prefix and `/`, then a name of at most 63 letters, digits, `-_.`). Annotation values are free text.\n\nExample:\n\n    annotations { \"prometheus io/scrape\" = \"true\" }   // rejected: space\n    annotations { \"prometheus.io/scrape\" = \"true\" }";
    E0372 = "E0372", Error, "invalid toleration",
        "Write a toleration as `kubectl taint` writes the taint: \"key=value:NoSchedule\", \"key:NoExecute\" or \"key\".",
        "Each entry of `tolerations` names a taint: its key, optionally `=value` (without one any value matches, operator Exists) and optionally `:Effect`, one of NoSchedule, PreferNoSchedule, NoExecute (without one every effect matches).\n\nExample:\n\n    tolerations = [\"dedicated=gpu:NoSchedul\"]   // rejected: unknown effect\n    tolerations = [\"dedicated=gpu:NoSchedule\"]";
    E0373 = "E0373", Error, "range without an upper bound",
        "Give the upper bound (`memory = 128Mi..256Mi`), or one value for a request equal to its limit; only a service's `cpu` may end in `..`.",
        "A range is `low..high`. A cpu or memory range is the request and the limit; a replica range is the HPA's minimum and maximum. Only a service's cpu (and its per-environment override) may be written `request..`: a cpu request without a cpu limit, so the pod may use idle cores (Checkov's CKV_K8S_11 is waived on that object with the reason, and a Kyverno policy holds it to a memory limit and a cpu request instead). Memory always has a limit: memory over the request is not given back, and a pod without a memory limit can exhaust its node. Replica ranges and the cpu of in-cluster resources need both bounds too.\n\nExample:\n\n    memory = 64Mi..       // rejected\n    memory = 64Mi..256Mi\n    cpu    = 50m..        // a service's cpu request without a limit";
    E0374 = "E0374", Error, "invalid config file path",
        "Mount each file at an absolute path without `..`, each file name once per service: `files { \"/etc/app/config.yaml\" = \"...\" }`.",
        "`files` mounts each entry's content at its path, from the ConfigMap `<service>-files` whose keys are the file names. A relative path, a `..` segment, a name outside letters, digits and `-._`, or two paths with the same file name cannot be mounted.\n\nExample:\n\n    files { \"config.yaml\" = \"port: 8080\\n\" }            // rejected: relative\n    files { \"/etc/app/config.yaml\" = \"port: 8080\\n\" }";
    E0375 = "E0375", Error, "invalid storage class name",
        "Name a StorageClass the cluster has, e.g. `storage_class = \"gp3-encrypted\"`, or leave it out for the class deployc generates.",
        "`storage_class` names the StorageClass of an in-cluster resource's data volume. A StorageClass name is a Kubernetes object name: lowercase letters, digits, `-` and `.`, each dot-separated part starting and ending with a letter or digit, at most 253 characters; the API server refuses a claim naming anything else. Without `storage_class`, the volume uses the encrypted class deployc generates in `k8s/_cluster/` (`gp3-encrypted` on AWS). Backup volumes always use the generated class.\n\nExample:\n\n    resource db = postgres { placement = in_cluster storage_class = \"Fast_SSD\" }   // rejected\n    resource db = postgres { placement = in_cluster storage_class = \"io2-encrypted\" }";
    E0376 = "E0376", Error, "queue scaling without a replica range",
        "Give the worker a replica range, e.g. `replicas = 1..10`: KEDA scales between its bounds.",
        "`queue_scaling` makes KEDA scale the workload on the depth of a queue, between the bounds of `replicas` (its ScaledObject's minReplicaCount and maxReplicaCount; KEDA creates the HorizontalPodAutoscaler itself, so deployc writes none). A fixed replica count leaves nothing to scale; a job or cron job runs to completion and is not scaled.\n\nExample:\n\n    service worker { kind = worker  replicas = 2  queue_scaling { queue = jobs } }   // rejected\n    service worker { kind = worker  replicas = 1..10  queue_scaling { queue = jobs } }";
    E0377 = "E0377", Error, "queue scaling on a resource KEDA cannot measure",
        "Scale on a Redis list or a Kafka topic the environment runs in the cluster (`placement = in_cluster`), or on an SQS `queue` from an EKS cluster this output creates.",
        "KEDA measures the length of a Redis list, the lag of a Kafka consumer group and the depth of an SQS queue. deployc connects KEDA to an in-cluster Redis (with its password Secret, and a network policy admitting KEDA's operator) and an in-cluster Kafka (its bootstrap Service). A managed Redis authenticates with IAM, which KEDA's Redis scaler cannot; a database is not a queue. The resource must be in the cluster in every environment the service is deployed to.\n\nAn SQS `queue` is read by KEDA's operator as an IAM role of its own (`<cluster>-keda-operator`, allowed `sqs:GetQueueAttributes` on exactly the queues scaled there), which the Terraform root of the cluster creates and the KEDA add-on puts on the operator's ServiceAccount; the trigger names the queue by its URL, which holds the AWS account. So every environment the service is deployed to must run on an EKS cluster this output creates (not an existing cluster's `https://` URL, nor GKE or AKS), and the program must name the AWS account (`cloud = aws { account = .. }` or the ECR registry's).\n\nExample:\n\n    queue_scaling { queue = db }   // rejected: postgres\n    queue_scaling { queue = jobs }";
    E0378 = "E0378", Error, "queue scaling without the list, topic or group it measures",
        "Name the Redis list (`list`), or the Kafka topic (`list`) and consumer group (`group`); a `queue` takes neither.",
        "A Redis list's length is measured by its key, a Kafka lag by topic and consumer group; an SQS queue is the resource itself. Both Redis and Kafka names are checked as plain names (letters, digits, `-_.:`), since they reach KEDA's trigger metadata.\n\nExample:\n\n    queue_scaling { queue = cache }                   // rejected: which list?\n    queue_scaling { queue = cache  list = \"tasks\" }";
    E0379 = "E0379", Error, "liveness or startup probe with a success threshold other than 1",
        "Drop `success_threshold` from the `liveness` or `startup` block; a readiness probe is the one that can ask for several successes.",
        "Kubernetes rejects a Pod whose liveness or startup probe has `successThreshold` other than 1: a restart decision is made on one success. `probes { success_threshold = N }` applies to the readiness probe only; inside `probes { liveness { ... } }` or `startup { ... }` the field may only be 1.\n\nExample:\n\n    probes { liveness { success_threshold = 2 } }   // rejected\n    probes { readiness { success_threshold = 2 } }";
    E0380 = "E0380", Error, "sealed secret file missing",
        "Seal the Secret with kubeseal into the file named, `<dir>/<env>/<secret>.yaml` beside the program.",
        "With `secret_store = sealed_secrets { dir = \"sealed\" }` every Secret an environment reads (a `secret(...)`, a resource's connection details, a pull secret, an alert receiver's key) comes from the team's kubeseal output committed at `<dir>/<env>/<secret>.yaml`, relative to the program's folder. deployc checks each file and writes it into the environment's output and the Helm chart; without it the workloads would wait forever for a Secret nothing creates. `deployc secrets FILE` prints the exact command for each one.\n\nExample:\n\n    secret_store = sealed_secrets { dir = \"sealed\" }\n    // sealed/dev/api-token.yaml must exist for `secret(\"api-token\")` in environment dev";
    E0381 = "E0381", Error, "unusable sealed secret file",
        "Commit kubeseal's YAML output unchanged: one `SealedSecret` of `bitnami.com/v1alpha1` with base64 ciphertext in `spec.encryptedData`.",
        "A sealed file must be one YAML document: a `SealedSecret` (`apiVersion: bitnami.com/v1alpha1`) whose `spec.encryptedData` maps each key to kubeseal's base64 ciphertext. Text that is not YAML, another kind, a value that is not base64 (a plain value pasted by mistake), plain `spec.template.data`, or fields of `spec` deployc does not carry are refused: deployc re-serializes the object from what it understood, so nothing it does not check reaches the output.\n\nExample:\n\n    kind: Secret                       # rejected: a plain Secret\n    kind: SealedSecret                 # kubeseal --format yaml";
    E0382 = "E0382", Error, "sealed secret for another name or namespace",
        "Seal the Secret under its own name and the environment's namespace (`kubectl create secret ... -n <namespace>`), as the help's command does.",
        "The Sealed Secrets controller creates the Secret under the SealedSecret's name, and by default (strict scope) can decrypt it only under the name and namespace it was sealed for; the `sealedsecrets.bitnami.com/namespace-wide` annotation frees the name, `cluster-wide` the namespace too. deployc requires the name the program reads, and the environment's namespace unless the file is cluster-wide.\n\nExample:\n\n    metadata:\n      name: api-token\n      namespace: shop-staging          # rejected in environment dev (namespace shop-dev)";
    E0383 = "E0383", Error, "sealed secret without a key its readers use",
        "Seal every key the readers use into one file: kubeseal replaces the whole Secret.",
        "Each pod, migration hook, analysis or alert receiver reads particular keys of a Secret (`secret(\"x\")` reads `value`, `secret(\"x\", key = \"k\")` reads `k`, a resource's connection Secret `url` and sometimes `password`). A key missing from `spec.encryptedData` leaves the reading pod in CreateContainerConfigError. `deployc secrets FILE` lists the keys of every Secret.\n\nExample:\n\n    encryptedData:\n      token: AgB...                    # rejected: the program reads key `value`";
    E0384 = "E0384", Error, "image pull secret of the wrong type",
        "Seal a pull secret made by `kubectl create secret docker-registry`, which sets `type: kubernetes.io/dockerconfigjson`.",
        "The kubelet reads `pull_secrets` as registry credentials only from a Secret of type `kubernetes.io/dockerconfigjson` with the key `.dockerconfigjson`; the type is in the SealedSecret's `spec.template.type`. Another type makes every image pull fail with an authentication error.\n\nExample:\n\n    template:\n      type: Opaque                     # rejected for a pull secret\n      type: kubernetes.io/dockerconfigjson";
    E0390 = "E0390", Error, "port taken by the mesh's sidecar",
        "Move the service to a port the mesh's sidecar does not listen on.",
        "With `mesh = istio` or `mesh = linkerd`, every pod gets a sidecar that listens on ports of its own inside the pod's network namespace: Istio's Envoy and agent on 15000, 15001, 15004, 15006, 15008, 15009, 15020, 15021, 15053 and 15090; Linkerd's proxy on 4140, 4143, 4190 and 4191. A service port among them collides: either the application or the sidecar cannot bind it, and the pod never becomes ready.\n\nExample:\n\n    project p { ... mesh = istio }\n    service api { language = node  port = 15020 }   // rejected";
    E0391 = "E0391", Error, "alarm threshold for a metric the resource's alarms do not read",
        "Set only the thresholds of this resource's alarms; the help line lists them.",
        "`alarms { ... }` sets the thresholds of the CloudWatch alarms deployc writes for a managed resource on AWS. Each engine has its own alarms: `cpu`, `free_storage` (RDS, not Aurora, whose storage grows by itself), `free_memory` and `replica_lag` for postgres; `cpu`, `free_memory` and `replica_lag` for mongodb (DocumentDB); `cpu` and `memory_used` for redis (ElastiCache); `age`, `depth` and `dead_letters` (with `dead_letter`) for a queue; `offline_partitions` for kafka (MSK). A threshold no alarm reads would change nothing, so it is refused.\n\nExample:\n\n    resource jobs = queue { alarms { cpu = 90% } }     // rejected: a queue has no CPU\n    resource jobs = queue { alarms { depth = 5000 } }";
    E0392 = "E0392", Error, "alarm threshold out of range",
        "Give a threshold at which the alarm can both fire and clear, or leave it out for the table's default.",
        "An alarm whose threshold it can never cross is either always firing or never: a percentage must be above 0% and below 100%, free storage above 0 and below the storage the resource has in that environment, an SQS message age above 0 and below the queue's `retention` (SQS deletes older messages, so the age never reaches it), a lag or free memory above 0, and a count 0 or more.\n\nExample:\n\n    resource db = postgres { storage = 20Gi  alarms { free_storage = 40Gi } }   // rejected: always firing\n    resource db = postgres { storage = 20Gi  alarms { free_storage = 2Gi } }";
    E0393 = "E0393", Error, "custom metric name Prometheus cannot query",
        "Write the name exactly as the application exposes it: letters, digits and `_`, starting with a letter or `_`.",
        "A `custom_metrics` entry names the metric the dashboards query, so it must be a metric name as Prometheus' data model reads it (`[a-zA-Z_][a-zA-Z0-9_]*`). deployc also refuses `:` (reserved for recording rules), a leading `__` (reserved for Prometheus' own labels and series) and names over 200 characters. The name is written into PromQL queries, so nothing else may reach them.\n\nExample:\n\n    custom_metrics = [{ name = \"appointments-booked\" kind = counter }]        // rejected\n    custom_metrics = [{ name = \"appointments_booked_total\" kind = counter }]";
    E0394 = "E0394", Error, "custom metric name does not fit its kind",
        "Name a counter `<what>_total`, and a gauge or histogram without a series suffix.",
        "Prometheus client libraries expose a counter `x` as `x_total` (OpenMetrics requires the suffix) and a histogram `x` as the series `x_bucket`, `x_count` and `x_sum`. The dashboards query a counter's rate by the name given and a histogram's `<name>_bucket`, so a counter without `_total`, or a gauge or histogram whose name ends in `_total`, `_bucket`, `_count`, `_sum`, `_created` or `_info`, would chart a series that does not exist.\n\nExample:\n\n    { name = \"bookings\" kind = counter }             // rejected: the series is bookings_total\n    { name = \"bookings_total\" kind = counter }";
    E0395 = "E0395", Error, "custom metric declared twice",
        "Declare a metric once: on the service that exposes it, or in `observability { custom_metrics }` when several services expose it.",
        "A metric name is one series per scraped service. Declared twice in one list, or both in `observability` (charted for every service) and on a service, it would get two panels with different titles for one series.\n\nExample:\n\n    observability { custom_metrics = [{ name = \"cache_hits_total\" kind = counter }] }\n    service api { custom_metrics = [{ name = \"cache_hits_total\" kind = counter }] }   // rejected";
    E0396 = "E0396", Error, "log shipping user without a password, or a password without a user",
        "Set `user` and `password = secret(\"...\")` together, or neither.",
        "Fluent Bit's `es` and `loki` outputs authenticate with HTTP basic auth: `HTTP_User` with `HTTP_Passwd` (`http_user`, `http_passwd` for Loki), and the password requires the user. deployc writes the user into Fluent Bit's configuration and reads the password from the `password` key of the named Secret, which the secret store produces in Fluent Bit's namespace (an ExternalSecret through the add-ons' ClusterSecretStore, or the team with Sealed Secrets or plain Secrets).\n\nExample:\n\n    logs = elk { endpoint = \"https://es.example.com\"  user = \"fluent\" }   // rejected\n    logs = elk { endpoint = \"https://es.example.com\"  user = \"fluent\"  password = secret(\"es-logs\") }";
    E0397 = "E0397", Error, "log shipping user Fluent Bit's configuration cannot carry",
        "Use the user name as the log store knows it: letters, digits and `._@+-`.",
        "The user is written into Fluent Bit's classic configuration, a line-based format without quoting, where a space ends the value, a newline starts another key and `${...}` is read as an environment variable. deployc admits letters, digits and `._@+-`, at most 128 characters, which covers Elasticsearch's and Loki's user names.\n\nExample:\n\n    user = \"fluent bit\"     // rejected\n    user = \"fluent-bit\"";
    // -------------------------------------------------------------- strategy
    E0410 = "E0410", Error, "cluster in two clouds",
        "Give every environment on this cluster the same `cloud`, or put the environment on a cluster of its own (`cluster = \"dr\"`).",
        "An environment's `cloud` is the cloud of the cluster it runs on (the project's `cloud` when it names none). Environments that share a cluster (the same `cluster`, or none: the hub) share its cloud, so they must not name different ones.\n\nExample:\n\n    environment staging { promote = on_push(\"main\") }\n    environment dr { promote = manual(from = staging)  cloud = gcp { project = \"acme-dr\" region = \"europe-west1\" } }   // rejected: on the hub, which is on AWS";
    E0411 = "E0411", Error, "managed resource the cloud cannot host",
        "Run the resource in the cluster in this environment (`resources { db { placement = in_cluster } }`), or put the environment on a cloud that hosts it.",
        "An environment that names a `cloud` gets its managed resources from that cloud's Terraform. GCP (Cloud SQL, Memorystore) and Azure (PostgreSQL flexible server, Azure Cache for Redis) host PostgreSQL and Redis; MongoDB, MySQL, queues, buckets, Kafka and Aurora are managed on AWS only. On the project's own cloud the same gap is warning W0008 at build time.\n\nExample:\n\n    resource db = mongodb { placement = managed }\n    environment dr { promote = manual  cluster = \"dr\"  cloud = gcp { project = \"acme-dr\" region = \"europe-west1\" } }   // rejected";
    E0412 = "E0412", Error, "one cloud set up two ways",
        "Write the same block wherever the cloud is named (for several regions of one cloud, use existing clusters by URL).",
        "Each cloud's Terraform roots share a provider configuration, a state backend and the pipeline's identity, so a program sets each cloud (`aws`, `gcp`, `azure`) up once: every environment naming a cloud of the project's kind gives the project's block, and environments naming another cloud give the same block as each other.\n\nExample:\n\n    project p { cloud = aws { region = \"us-east-1\" } }\n    environment dr { promote = manual  cluster = \"dr\"  cloud = aws { region = \"us-west-2\" } }   // rejected";
    E0401 = "E0401", Error, "canary weights not increasing",
        "List the weights in strictly increasing order, e.g. [10%, 30%, 60%, 100%].",
        "Canary steps shift traffic step by step; each weight must be strictly greater than the one before it.";
    E0402 = "E0402", Error, "canary weight out of range",
        "Use weights between 1% and 100%.",
        "A canary weight must be between 1% and 100%. As in Argo Rollouts, a rollout goes to 100% after its last step, so 0% steps are meaningless.";
    E0403 = "E0403", Error, "blue-green without readiness probe",
        "Give the service a `health` or `readiness` probe.",
        "Blue-green switches traffic when the preview is ready; without a readiness probe the switch happens before the new version can serve.";
    E0404 = "E0404", Error, "analysis without metrics provider",
        "Declare the provider: `observability { metrics = prometheus }` or an integration of kind newrelic or datadog.",
        "A canary or blue-green analysis needs a metrics provider to query. Either the analysis names one that is not declared, or it names none and the program has none.";
    E0405 = "E0405", Error, "empty canary",
        "Give the canary at least one weight step.",
        "A canary strategy with no weight steps would go straight to 100%; use rolling instead, or list the steps.";
    // ------------------------------------------------------- cloud identities
    W0018 = "W0018", Warning, "ServiceAccount without its IAM role",
        "Name the account in the `aws` cloud block (`account = \"123456789012\"`) or on the ECR registry: the ServiceAccount's role annotation needs the role's full ARN.",
        "On AWS, a service that uses a queue, a bucket or a managed Redis reaches it through AWS's APIs, with the credentials of an IAM role its ServiceAccount assumes through the cluster's OIDC provider (IRSA). Terraform creates that role per environment as `<project>-<env>-<service account>`, trusting exactly `system:serviceaccount:<namespace>:<service account>`, with a policy on those resources alone; the ServiceAccount carries `eks.amazonaws.com/role-arn`, whose value must be the role's full ARN. Without the account the ARN cannot be written: Terraform still creates the role, but the ServiceAccount does not name it and the pods start without AWS credentials until the team annotates it.\n\nExample:\n\n    project p { cloud = aws { region = \"us-east-1\" } }\n    resource jobs = queue {}\n    service api { env { JOBS_QUEUE = jobs.url } }   // warned: no account";
    E0421 = "E0421", Error, "IAM role name too long",
        "Shorten the project, environment or ServiceAccount name (`service_account = \"...\"` on the service), so `<project>-<env>-<service account>` fits in 64 characters.",
        "The IAM role a ServiceAccount assumes on AWS (IRSA) is named `<project>-<env>-<service account>`. IAM refuses role names longer than 64 characters, so `terraform apply` would fail on the role and the ServiceAccount would name a role that does not exist.";
    // ------------------------------------------------------------------ edge
    E0422 = "E0422", Error, "edge protection needs AWS",
        "Remove the `edge` block, or move the project to `cloud = aws`.",
        "An environment's `edge` block puts an AWS WAF web ACL (and, with `shield = true`, AWS Shield Advanced) in front of its Application Load Balancer. Only the AWS Terraform creates them; on GCP or Azure the block would protect nothing (Cloud Armor and Front Door are not generated yet), so deployc refuses it rather than leave the environment unguarded while the program says otherwise.";
    E0423 = "E0423", Error, "edge protection without an ALB",
        "Expose the environment's public services with `expose = ingress { ... class = \"alb\" }`: AWS WAF and Shield attach to an Application Load Balancer, not to the Network Load Balancer in front of ingress-nginx.",
        "The web ACL of an environment's `edge` block is associated with the Application Load Balancer that the AWS Load Balancer Controller creates for the environment's Ingresses of class `alb` (they share one ALB through `alb.ingress.kubernetes.io/group.name`). When no service deployed in that environment is exposed through an `alb` Ingress there is no ALB: ingress-nginx is reached through a Network Load Balancer, which AWS WAF cannot protect, so the ACL would guard nothing.\n\nExample:\n\n    service web { ... expose = ingress { host = \"shop.dev\" } }   // class nginx\n    environment prod { ... edge { rate_limit = 2000 } }             // E0423";
    E0424 = "E0424", Error, "WAF rate limit out of range",
        "Write a limit between 10 and 2000000000 requests per client IP in 5 minutes.",
        "`edge { rate_limit = N }` becomes a rate-based rule of the web ACL: a client IP that sends more than N requests in any 5-minute window is blocked until its rate falls below N. AWS WAF accepts limits from 10 to 2,000,000,000; anything else fails `terraform apply`.";
    E0425 = "E0425", Error, "edge block that protects nothing",
        "Leave `waf` on (the default), set `shield = true` or `min_tls`, or remove the `edge` block.",
        "An `edge` block with `waf = false`, without `shield = true` and without `min_tls` creates nothing, but reads as if the environment were protected at the edge.";
    E0435 = "E0435", Error, "minimum TLS version without an HTTPS listener",
        "Expose a service deployed in this environment with `expose = ingress { ... class = \"alb\" }` and TLS on (the default), or remove `min_tls`.",
        "`edge { min_tls = tls13 }` chooses the security policy of the HTTPS listener of the environment's Application Load Balancer (`alb.ingress.kubernetes.io/ssl-policy` on its TLS `alb` Ingresses): `ELBSecurityPolicy-TLS13-1-3-2021-06` accepts TLS 1.3 only, `ELBSecurityPolicy-TLS13-1-2-2021-06` (the default, `tls12`) TLS 1.2 and 1.3. Every TLS `alb` Ingress carries one of them, since without the annotation the controller creates the listener with `ELBSecurityPolicy-2016-08`, which still accepts TLS 1.0. When no service deployed in the environment has a TLS `alb` Ingress there is no HTTPS listener and the setting would change nothing: ingress-nginx terminates TLS with its own protocols (TLS 1.2 and 1.3).\n\nExample:\n\n    service web { ... expose = ingress { host = \"shop.dev\" tls = false class = \"alb\" } }\n    environment prod { ... edge { min_tls = tls13 } }   // E0435";
    E0444 = "E0444", Error, "CDN without one public TLS host",
        "Expose the environment's `alb` services on one host, with TLS on (the default), without a certificate of their own and without a blue-green strategy here, or remove `cdn`.",
        "`edge { cdn { ... } }` puts one CloudFront distribution in front of the environment's Application Load Balancer: the public host's DNS record points at CloudFront, and CloudFront forwards what it does not serve from its cache to the ALB over HTTPS, as `origin.<host>`, a host the Ingresses serve instead of the public one (the ALB admits CloudFront's addresses only). One distribution fronts one host, so every `alb` Ingress of the environment must share it; each must use TLS (CloudFront talks HTTPS to the origin) and the certificate the Terraform root requests, which covers the origin host (a certificate named in the program does not); and a blue-green service's preview host would be a second host that nothing but CloudFront could reach.\n\nExample:\n\n    service web { ... expose = ingress { host = \"shop.dev\" class = \"alb\" } }\n    service api { ... expose = ingress { host = \"api.shop.dev\" class = \"alb\" } }\n    environment prod { ... edge { cdn { paths = [\"/static/*\"] } } }   // E0444: two hosts";
    E0445 = "E0445", Error, "bad CDN path pattern",
        "Write path patterns such as `\"/static/*\"`: starting with `/`, of letters, digits and `_ - . * ? $ / ~ \" ' @ : + &`, each once, not `/*`.",
        "Each entry of `cdn { paths = [...] }` becomes a cache behaviour of the CloudFront distribution, which CloudFront matches against the request path: it must start with `/`, may use `*` and `?` as wildcards, holds at most 255 characters of a fixed set, and appears once (CloudFront refuses two behaviours with one pattern). A pattern that matches every path (`/*`) would cache the application's dynamic responses too; everything not listed is passed to the origin uncached, so list the static folders only.\n\nExample:\n\n    edge { cdn { paths = [\"static/*\", \"/*\"] } }   // E0445 twice";
    E0446 = "E0446", Error, "TLS 1.3 only behind a CDN",
        "Write `min_tls = tls12` (CloudFront accepts TLS 1.2 and 1.3 from viewers), or remove `cdn`.",
        "`edge { min_tls = tls13 }` promises TLS 1.3 only. Behind `cdn` it cannot hold: CloudFront connects to origins with TLS 1.2 at most, so the ALB's listener must accept TLS 1.2, and the strictest viewer policy the AWS provider 5.x writes for a distribution is `TLSv1.2_2021` (TLS 1.2 and 1.3). deployc refuses the combination rather than weaken it silently.\n\nExample:\n\n    edge { min_tls = tls13 cdn { paths = [\"/static/*\"] } }   // E0446";
    // ------------------------------------------------------ volume backups
    E0436 = "E0436", Error, "volume backups need an EKS cluster",
        "Remove the `volume_backups` block, or run the environment on AWS (`cloud = aws`).",
        "An environment's `volume_backups` block installs Velero with its AWS plugin in the environment's cluster: backups go to an S3 bucket and persistent volumes become EBS snapshots, through an IAM role Velero's ServiceAccount assumes (IRSA). Only the AWS Terraform creates that bucket and role, so on GKE or AKS the block would back up nothing; deployc refuses it rather than let the program promise snapshots that are never taken.\n\nExample:\n\n    project p { cloud = gcp { project = \"acme\" region = \"europe-west1\" } }\n    environment prod { volume_backups { schedule = daily } }   // E0436";
    E0437 = "E0437", Error, "volume backups without their bucket and role",
        "Name the cluster (`cluster = \"prod\"`, so this output creates it) and the AWS account (`cloud = aws { ... account = \"123456789012\" }`).",
        "Velero's bucket and IAM role are created by the Terraform root of the environment's cluster (`terraform/clusters/<cluster>/`), and Velero's ServiceAccount names the role by its ARN. A cluster named by its API URL has no root in this output, and without the AWS account the ARN cannot be written: Velero would start without credentials and every backup would fail.\n\nExample:\n\n    environment prod { cluster = \"https://prod.example.com\" volume_backups { schedule = daily } }   // E0437";
    E0438 = "E0438", Error, "volume backups kept for less than their interval",
        "Keep the backups at least one interval of the schedule (`schedule = daily retain = 7d`), or back up more often.",
        "`retain` is the TTL of each Velero backup: when it expires Velero deletes the backup and its volume snapshots. A TTL shorter than the time between two backups leaves the environment without any restorable backup for part of every interval, which is what the block is meant to prevent.\n\nExample:\n\n    environment prod { volume_backups { schedule = weekly retain = 3d } }   // E0438";
    // ------------------------------------------------------------ data tier
    E0426 = "E0426", Error, "serverless capacity without Aurora",
        "Add `aurora = true` to the resource, or remove `serverless`.",
        "`serverless = min..max` sets the capacity range of Aurora Serverless v2, which exists only for Aurora clusters. A plain RDS PostgreSQL instance has a fixed instance class (`instance`).";
    E0427 = "E0427", Error, "serverless capacity out of range",
        "Write `serverless = MIN..MAX` in ACUs, both between 0.5 and 256 in steps of 0.5, MIN not above MAX (e.g. `0.5..16`).",
        "Aurora Serverless v2 scales each instance between a minimum and a maximum capacity in Aurora capacity units (ACUs; one ACU is about 2 GiB of memory with matching CPU). RDS accepts 0.5 to 256 ACUs in steps of 0.5 and refuses anything else at `terraform apply`.";
    W0017 = "W0017", Warning, "instance class unused under serverless",
        "Remove `instance`: a serverless Aurora cluster's instances are all `db.serverless`, sized by `serverless = MIN..MAX`.",
        "With `serverless = MIN..MAX` every instance of the Aurora cluster (writer and readers) has the class `db.serverless` and scales within that capacity, so an `instance` class written beside it has no effect.";
    // -------------------------------------------------------------- gitops
    E0428 = "E0428", Error, "sync retry limit out of range",
        "Write `retry = N` with N between 0 (a failed sync is not retried) and 50; the default is 10.",
        "`gitops = argocd { retry = N }` becomes `syncPolicy.retry.limit` of every environment's Application: ArgoCD retries a failed sync N times, waiting 10s, then twice as long each time up to 5 minutes. Ten retries span about half an hour, which covers add-ons whose CRDs arrive in parallel on a fresh cluster. A negative limit would retry forever, and beyond 50 a broken sync keeps retrying for hours after the deploy job stopped waiting, so deployc accepts 0 to 50.";
    E0429 = "E0429", Error, "sync settings with no automatic sync",
        "Promote an environment `on_push(...)` so it syncs automatically, or remove `self_heal = true` / `prune = true`.",
        "`self_heal` and `prune` on `gitops = argocd { ... }` become `syncPolicy.automated.selfHeal` and `.prune` of the environments that sync automatically: those promoted `on_push`. Environments promoted `manual(...)` or `on_tag(...)` are synced by their deploy job, and a manual sync neither reverts changes made by hand nor deletes objects on its own. When no environment syncs automatically the settings would change nothing, while the program reads as if the clusters healed themselves.";
    E0430 = "E0430", Error, "RDS Proxy on an engine it does not serve",
        "Remove `proxy`: only PostgreSQL (RDS or Aurora) sits behind RDS Proxy here; DocumentDB and ElastiCache are reached directly and the driver pools connections.",
        "`proxy = true` puts Amazon RDS Proxy between the pods and a managed database. RDS Proxy serves RDS and Aurora (PostgreSQL, MySQL, MariaDB, SQL Server) and nothing else: it has no target type for Amazon DocumentDB (a managed `mongodb`) or ElastiCache (a managed `redis`), so the proxy could never be created.\n\nExample:\n\n    resource db = mongodb {\n      placement = managed\n      proxy     = true   // DocumentDB has no RDS Proxy\n    }";
    E0431 = "E0431", Error, "RDS Proxy without a managed database on AWS",
        "Run the database `placement = managed` on AWS in at least one environment (environments that run it in the cluster connect to it directly), or remove `proxy`.",
        "RDS Proxy pools connections to an RDS or Aurora database that the environment's Terraform creates. A resource that every environment runs in the cluster (a StatefulSet) has no RDS database to proxy, and an environment on GCP or Azure has no RDS Proxy at all. Environments that run the database in the cluster while others run it managed simply connect directly.";
    E0432 = "E0432", Error, "secondary region that cannot hold the copies",
        "Name another AWS region than the project's, such as `us-west-2` beside `us-east-1`.",
        "`recovery { region = ... }` names the AWS region the production backups are copied to, so that a failure of the project's region leaves a copy to restore from. It has to be an AWS region name, on a project whose cloud is AWS, and a different region from the project's own: a copy in the same region is lost with it.";
    E0433 = "E0433", Error, "two secondary regions",
        "Name the same `region` in every resource's `recovery` block.",
        "Each environment keeps its off-cluster backups in one S3 bucket, replicated to one bucket in the secondary region, and one AWS Backup vault copied to one vault there. Two resources naming different secondary regions would need two replicas of the same bucket, which the output does not write.";
    E0434 = "E0434", Error, "secondary region for backups the output cannot copy",
        "Remove `region` from this resource's `recovery` block; name it on a PostgreSQL or MongoDB resource.",
        "The output copies PostgreSQL and MongoDB backups to the secondary region: the off-cluster dumps of in-cluster databases through S3 replication, and RDS, Aurora and DocumentDB backups through AWS Backup copy jobs. ElastiCache snapshots, Kafka logs, queues and buckets are not copied, so a `region` on them would promise a failover copy that does not exist.";
    E0449 = "E0449", Error, "push webhook for a repository on an unknown host",
        "Remove `webhook` from `gitops = argocd { ... }`, or host the repository on github.com or gitlab.com.",
        "`gitops = argocd { webhook = secret(\"...\") }` has the repository notify ArgoCD of every push at `https://<argocd>/api/webhook`, so a commit to the generated tree syncs at once instead of on ArgoCD's 3-minute poll. ArgoCD verifies each delivery with a secret kept under a key that depends on the sender (`webhook.github.secret`, `webhook.gitlab.secret`), and the docs page gives the command that registers the webhook on that host. For a repository deployc cannot place on GitHub or GitLab it knows neither.\n\nExample:\n\n    project p { repository = \"git.acme.dev/platform/p\"  gitops = argocd { webhook = secret(\"argocd-webhook\") } }   // E0449";
    E0450 = "E0450", Error, "state backup on a cloud the output cannot back it up in",
        "Remove `state_backup`, or run the project on `cloud = aws { ... }`.",
        "`state_backup { schedule retain }` has AWS Backup copy the S3 bucket holding every root's Terraform state (versioned, as the bootstrap creates it) into a vault on that schedule, and into a vault in the program's secondary region (`recovery { region }`) when it names one, so losing the bucket or its region leaves a state to restore. A project on GCP or Azure keeps its state in a GCS bucket or an Azure storage account, which this output does not back up.\n\nExample:\n\n    project p { cloud = gcp { project = \"acme\" region = \"europe-west1\" }  state_backup { schedule = daily } }   // E0450";
    E0451 = "E0451", Error, "pull-request benchmarks with nothing to run",
        "Give the toolchain of a service CI builds a `benchmark { command output format }`, or remove `benchmarks`.",
        "`pr_checks { benchmarks = 50% }` runs each built service's toolchain `benchmark` command on every pull request and on pushes to the default branch, keeps the default branch's latest results as the baseline (in the Actions cache) and fails a pull request whose results are that much worse than the baseline (github-action-benchmark). Where no toolchain declares a benchmark the check would compare nothing and still pass.\n\nExample:\n\n    pipeline { pr_checks { benchmarks = 50% } }   // no toolchain has `benchmark`: E0451";
    E0452 = "E0452", Error, "complexity limit below 1",
        "Use a limit of at least 1; 10 to 15 is usual.",
        "`pr_checks { complexity = N }` fails a pull request that adds or changes a function whose cyclomatic complexity (lizard's CCN: one plus the number of decision points) exceeds N, in the files the pull request changes. Every function has a complexity of at least 1, so a limit of 0 would fail every changed function.\n\nExample:\n\n    pipeline { pr_checks { complexity = 0 } }   // E0452";
    E0455 = "E0455", Error, "risk rule on an environment without a canary",
        "Give the environment a canary strategy (`strategy = canary { ... }`), or remove its `risk` block.",
        "`risk { paths = [...] }` decides, per release, whether the environment's canary runs: a high-risk release goes through every canary step, its analysis and its manual approval; a low-risk one is promoted in full right after the sync. An environment rolled out by a rolling update or a blue-green has no canary steps to run or skip, so the rule would decide nothing.\n\nExample:\n\n    environment prod { strategy = rolling  risk { paths = [\"db/**\"] } }   // E0455";
    E0456 = "E0456", Error, "risk rule without paths",
        "List the files whose change makes a release high-risk, such as `paths = [\"db/**\", \"migrations/**\"]`.",
        "A release is high-risk when a file matching one of `risk { paths }` changed since the environment's last verified release (or a commit since then carries the `trailer`, or nothing was verified yet). Without paths only the trailer could mark a release high-risk, so a forgotten trailer would send a schema change straight to all traffic; deployc asks for the paths.\n\nExample:\n\n    environment prod { strategy = canary-analyzed  risk { paths = [] } }   // E0456";
    E0457 = "E0457", Error, "bad risk path pattern",
        "Write each pattern relative to the repository root, such as `db/**` or `api/src/auth/*`: not empty, no leading `/`, no `..`, no control characters, brackets closed.",
        "Each entry of `risk { paths }` is matched by the CI's risk script against the repository-relative names of the changed files (bash pattern matching: `*` and `?` as wildcards, `*` crossing `/` in a pattern with a `/`, a pattern without `/` matching files at the root). A pattern that starts with `/` or holds `..` never matches a name git reports, an unclosed `[` matches nothing, and a control character cannot appear in a file name CI reads line by line: each would leave risky files looking safe.\n\nExample:\n\n    risk { paths = [\"/db/**\", \"\"] }   // E0457 twice";
    E0458 = "E0458", Error, "bad risk trailer",
        "Write the trailer as a git trailer line, a token, a colon and a value: `trailer = \"Risk: high\"`.",
        "`risk { trailer }` marks a release high-risk when any commit since the environment's last verified release carries that trailer line (`git interpret-trailers` syntax: `Key: value` at the end of the commit message; compared without regard to case). A trailer without a key of letters, digits and `-`, a colon and a value is never what git reports as a trailer, so the rule would silently never fire.\n\nExample:\n\n    risk { paths = [\"db/**\"] trailer = \"high risk\" }   // E0458";
    E0459 = "E0459", Error, "bad standby",
        "Name a production environment other than this one, one that is no standby itself and has no other standby: `standby_of = production`.",
        "`standby_of = env` makes the environment a warm standby: Route 53 sends `env`'s public host to it when `env`'s health check fails, and until then it restores `env`'s newest replicated database backup every 15 minutes. The primary must be a `production = true` environment (a standby of a staging environment would take over staging's host), not the standby itself, and not a standby of a third environment; each primary has one standby, since a failover record pair has one secondary.\n\nExample:\n\n    environment dr { standby_of = staging }   // E0459: staging is not production";
    E0460 = "E0460", Error, "failover not rendered for this topology",
        "Put the primary on AWS behind `edge { cdn { ... } }`, the standby on GCP (`cloud = gcp { ... }`), and give each in-cluster MongoDB of the primary `backup { ... }` and `recovery { region = ... }` with the program's AWS account named.",
        "A failover is rendered for one topology: the primary on AWS behind a CloudFront distribution (`edge { cdn }`), whose public host Route 53's HTTPS health check probes through CloudFront; the standby on a GKE cluster, whose restore job reads the primary's backup replica in the secondary region as an AWS role that trusts its Google service account. The job restores in-cluster MongoDB dumps; the primary's in-cluster databases must therefore be MongoDB with backups replicated to a `recovery { region }`, and the role's ARN needs the program's AWS account. Other pairs (a second AWS region, Azure, managed or PostgreSQL databases) are not rendered yet.\n\nExample:\n\n    environment dr { cloud = gcp { project = \"acme-dr\" region = \"us-central1\" }  standby_of = production }   // E0460 when production has no `edge { cdn }`";
    E0461 = "E0461", Error, "failover without a Route 53 zone for its host",
        "Declare the zone that serves the primary's public host: `dns = route53 { zone = \"example.com\" }` in the project.",
        "A failover switches the primary's public host between the primary and the standby with a pair of Route 53 failover records guarded by a health check. deployc writes them into the project's Route 53 zone; without `dns = route53`, or with a zone that does not hold the host, there is nowhere to write them and nothing would switch.\n\nExample:\n\n    project shop { domain = \"shop.example.com\" }   // no dns: E0461 for a standby";
    // ------------------------------------------------------------- promotion
    E0501 = "E0501", Error, "promotion cycle",
        "Break the cycle: one environment must be the entry point, promoted on push or tag.",
        "Environments are promoted from one another; following `from` links must never come back to where it started. deployc prints the whole cycle.";
    E0502 = "E0502", Error, "unreachable environment",
        "Promote it from a reachable environment, or give it an automatic trigger (on_push or on_tag).",
        "An environment that is neither triggered automatically nor promoted (directly or indirectly) from one that is can never receive a release.";
    // ------------------------------------------------------------------ gates
    E0601 = "E0601", Error, "gate tool does not fit the language",
        "Use a tool made for the service's language, or restrict the gate with `services = [...]`.",
        "Some gate tools only understand one ecosystem (bandit, safety and pip-audit are Python; npm-audit and eslint are Node). A gate whose tool fits none of the services it covers can never check anything.";
    // -------------------------------------------------------------- pipelines
    E0602 = "E0602", Error, "post-deploy test stage without tests",
        "Give the toolchain of a public service deployed there its `integration` or `performance` commands, or remove the entry from `after`.",
        "An environment's `after` may run test suites against the deployed environment: `integration_tests` runs the toolchains' `integration` commands, `performance_tests` their `performance` commands, each in the service's folder with `BASE_URL` set to the service's public URL. When no service deployed there (with a public route) declares those commands, the stage would run nothing and still look like a passed check.\n\nExample:\n\n    toolchain api-node { family = node  test = [\"npm test\"] }\n    environment staging { promote = on_push(\"main\")  after = [performance_tests] }   // rejected: no `performance` commands";
    E0603 = "E0603", Error, "untranslatable branch pattern",
        "Use `*` within one `/`-separated part (\"release/*\") or `**` as the whole last part (\"feature/**\"), with branch-name characters in between.",
        "`on_push(...)` takes branch names and patterns. A pattern is written into GitHub's `on.push.branches`, a Jenkinsfile's `branch pattern: ..., comparator: 'GLOB'` (an Ant glob) and a GitLab `rules: if: $CI_COMMIT_BRANCH =~ /.../` regex, so deployc accepts only the part the three read alike: `*` matches any run of characters within one `/`-separated part, and `**` as the whole last part matches any rest, `/` included. GitHub reads `+`, `!`, `[`, `]` and `?` as pattern syntax (Ant and regexes read them otherwise), so they are refused in names and patterns; the literal parts follow the branch-name rules of E0330.\n\nExample:\n\n    promote = on_push(\"release/**/fix\")        // `**` in the middle: rejected\n    promote = on_push(\"main\", \"release/*\")    // accepted";
    E0604 = "E0604", Error, "branch listed twice",
        "List each branch or pattern once.",
        "`on_push(...)` lists the branches whose pushes deploy the environment; a branch or pattern written twice is most likely a typo for another one.\n\nExample:\n\n    promote = on_push(\"main\", \"main\")        // rejected\n    promote = on_push(\"main\", \"release/*\")   // accepted";
    // ---------------------------------------------------------------- secrets
    E0701 = "E0701", Error, "secret as literal value",
        "Reference it instead: `secret(\"name\")`, resolved from the project's secret store.",
        "An environment variable whose name marks it as a secret (…_SECRET, …_PASSWORD, …_TOKEN, …_KEY, …_DSN) is given a literal string in a production environment. The value would end up in Git and in every generated manifest.";
    // ----------------------------------------------------------------- graph
    E0801 = "E0801", Error, "dependency cycle",
        "Remove one of the dependencies, or split the shared part into its own service.",
        "Services depend on each other in a cycle (through references or `depends_on`). The order in which they start and migrate would be undefined; deployc prints the whole cycle.";
    // ------------------------------------------------------------ output I/O
    // Reported by the writer (the binary), never by the library; they name a
    // path instead of a span. tests/writer.rs covers them.
    E0901 = "E0901", Error, "permission denied writing the output",
        "Make the output directory writable by this user, or choose another one with `-o`.",
        "The operating system refused to create, write, rename or remove a file or folder of the output tree (permission denied, or a read-only filesystem).\nThe build stops before it changes anything; files already written to temporary siblings are removed, so the previous output stays as it was.";
    E0902 = "E0902", Error, "no space left writing the output",
        "Free space on the output's filesystem (or raise the quota or file-size limit) and build again.",
        "Writing a file of the output failed because the filesystem is full, a disk quota is exhausted or a file-size limit was reached.\nThe build stops before it renames anything into place and removes its temporary files, so the previous output stays as it was.";
    E0903 = "E0903", Error, "symlink inside the output tree",
        "Replace the symlink with a real folder, or point `-o` at the folder it links to.",
        "deployc opens every path below the output directory without following symlinks, so that a link such as `out/k8s/prod -> /elsewhere` cannot make a build write or delete files outside the output.\nA symlink where deployc needs a folder stops the build before anything is written. The output directory itself (`-o DIR`) may be a symlink; only links inside it are refused.\nA symlink where deployc writes a file is replaced by the file, never written through.";
    E0904 = "E0904", Error, "output path conflict",
        "Remove or rename the file or folder that stands in the way.",
        "A file stands where deployc needs a folder, a folder stands where it writes a file, or the filesystem cannot hold a name (too long).\nThe build stops before anything is renamed into place; the previous output stays as it was.";
    E0905 = "E0905", Error, "output path leaves the output directory",
        "Use a relative path without `..` for `workflows_dir` and similar settings.",
        "Every generated file must stay inside the output directory: its path is relative, has no `..`, `.` or empty segments and no control characters.\nThe checker rejects such settings first (E0306); this code is the writer's own guard, reported if a path gets through anyway.";
    E0906 = "E0906", Error, "cannot write the output",
        "Read the system error in the message; fix the cause and build again.",
        "An input/output error other than permissions, space, symlinks or conflicts stopped the build, for example a failing disk or a network filesystem error.\nIf it happened before the build committed, the previous output is intact; if after, the next run completes the build from its journal (`.deployc-journal`).";
    // --------------------------------------------------------------- warnings
    W0001 = "W0001", Warning, "unused definition",
        "Remove it, or reference it from an environment or service.",
        "A strategy, resource, integration or secret store is declared in this program but nothing uses it. Declarations from imported standard modules are exempt.";
    W0002 = "W0002", Warning, "automatic promotion to production",
        "Use `promote = manual(from = ...)` or `on_tag(...)` for production environments, or name its `approvers`.",
        "A production environment is deployed automatically on every push, and nobody approves it (`approvers` is empty). Most teams want a human approval or a release tag in front of production.";
    W0003 = "W0003", Warning, "security default relaxed",
        "Keep the default unless the workload really needs it; the relaxation is applied in every environment.",
        "deployc's generated pods run as non-root with a read-only root filesystem and no privilege escalation. A `security { ... }` block may relax one of these; deployc accepts it and warns, so the choice shows up in review.";
    W0004 = "W0004", Warning, "mutable image tag in production",
        "Use a tag policy that yields immutable tags (branch_sha, sha or semver) for production.",
        "The tag policy deploys `latest` to a production environment; a mutable tag makes a rollback or an audit impossible.";
    W0010 = "W0010", Warning, "service without a probe",
        "Declare `health` (and `readiness` if it differs): `http { path = \"/healthz\" }`, `grpc { }`, `tcp { }` or `exec { command = [...] }`.",
        "A service with a port, deployed to a production environment, has neither `health` nor `readiness`. deployc does not invent a probe: a guessed TCP check restarts nothing that hangs and may restart what is only slow to start. Without a probe Kubernetes neither restarts a stuck container nor waits for readiness before routing traffic to it, and policy scanners (Checkov CKV_K8S_8/9) flag the workload.\n\nExample:\n\n    service api { language = node  port = 8080 }   // W0010\n    service api { language = node  port = 8080  health = http { path = \"/healthz\" } }";
    W0005 = "W0005", Warning, "target has nothing to emit",
        "Drop the target from `--target`, or change the program so the target applies (the message says what it needs).",
        "A target of the build cannot serve this program, so it writes nothing: for example the Kubernetes manifests or the Helm chart for a program without environments, Jenkins for a program whose pipeline runs on GitHub Actions, or GitHub Actions for a program without services.\n\nThe build goes on with the other targets; the warning makes sure a missing folder is never a surprise.\n\nExample:\n\n    service api { language = go port = 8080 }\n\n    $ deployc build p.dpl --target helm\n    warning[W0005]: target `helm` has nothing to emit: the program declares no environment";
    W0006 = "W0006", Warning, "observability declaration no target carries",
        "Route alerts to an integration that receives them (slack, pagerduty or opsgenie), or remove it from `route_to`.",
        "An observability declaration asks for something no output can deliver: for example `alerts { route_to = [jira] }` — Alertmanager has no Jira, Sentry, Codecov, New Relic or Datadog receiver, so no AlertmanagerConfig route is written for it and those alerts would silently go nowhere. Likewise `logs = cloudwatch` on a cloud other than AWS (only the AWS Terraform creates log groups and the role Fluent Bit writes with), and `logs = datadog` without a `datadog` integration (the agent needs its `api_key`).\n\nExample:\n\n    integration jira = jira { url = \"https://acme.atlassian.net\" project = \"OPS\" token = secret(\"jira-token\") }\n    observability { alerts { crash_loop = true route_to = [jira] } }\n\n    warning[W0006]: alerts cannot be routed to jira integration `jira`";
    W0007 = "W0007", Warning, "Helm chart without the environment's patches",
        "Render the chart through a post-renderer that applies the same patches (`helm template ... --post-renderer ./kustomize.sh`), or build only the Kubernetes target (`--target k8s --target argocd`).",
        "An environment's `patches` are applied by its kustomization (`k8s/<env>/kustomization.yaml`). A Helm chart has no place for a patch of its own rendered objects: Helm applies patches only through a post-renderer given on the command line. So the chart renders the objects without them, and a team deploying with Helm must run the same patches through a post-renderer.";
    W0008 = "W0008", Warning, "cloud cannot serve part of the program",
        "Run the resource in the cluster (`placement = in_cluster`) in those environments, or choose a secret store the cluster can read (`vault`, `sealed_secrets`, `kubernetes`).",
        "The Terraform target writes the program's cloud, but some of what the program asks for has no block for that cloud yet: on GCP and Azure, managed MongoDB, queues, buckets, Kafka and Aurora (only PostgreSQL as Cloud SQL or a flexible server and Redis as Memorystore or Azure Cache for Redis are written), a secret store of another cloud (`aws_secrets_manager`), which the GKE and AKS clusters have no identity for, and the credentials Terraform generates (managed and in-cluster databases), which go to GCP Secret Manager or Azure Key Vault while the secret store is another (`gcp_secret_manager` reads Secret Manager; no store reads Key Vault yet).\n\nThe build writes everything else; the warning names each resource and the environments that run it managed, so nothing is left out in silence.\n\nExample:\n\n    project p { cloud = gcp { project = \"acme\" region = \"europe-west1\" } }\n    resource jobs = queue {}\n    environment prod { resources { jobs { placement = managed } } }\n\n    $ deployc build p.dpl --target terraform\n    warning[W0008]: managed queue `jobs` has no GCP Terraform yet (environments: prod)";
    W0015 = "W0015", Warning, "images out of the cluster's reach",
        "Run the environment on a GKE cluster this output creates, whose nodes pull a copy CI pushes to Artifact Registry; or use a registry every cluster can pull from with stored credentials (`ghcr`, `dockerhub` with `pull_secrets`).",
        "The registry's images are pulled by each cluster's nodes. EKS nodes pull from ECR with their node role; GKE and AKS nodes have no AWS identity, and an ECR pull token lasts 12 hours, so no stored Secret keeps working. For a GKE cluster the output creates, the cluster pulls natively from its own cloud's registry, with no pull secret: the GCP `terraform/gcp/shared/` root creates an Artifact Registry repository named after the project, CI copies every image it pushes to ECR there with the same tag (GitHub Actions keylessly through Workload Identity Federation; Jenkins and GitLab CI with a service account key the team stores), the cluster root lets the nodes' service account read it, and the environment's kustomization and Helm values name `REGION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE`. An AKS cluster or an existing cluster named by URL gets no such copy, and the pods of such an environment stay in `ImagePullBackOff` until the team provides a way in (a pull secret named in the services' `pull_secrets`).\n\nExample:\n\n    project p { registry = ecr { region = \"us-east-1\" account = \"123456789012\" } }\n    environment dr { promote = manual  cluster = \"dr\"  cloud = azure { location = \"eastus2\" } }\n\n    warning[W0015]: environment `dr` runs in azure but its images are on ECR, which its cluster's nodes cannot pull from";
    W0011 = "W0011", Warning, "alarm thresholds no CloudWatch alarm reads",
        "Remove `alarms`, or run the resource managed (`placement = managed`) in an environment on AWS.",
        "deployc writes CloudWatch alarms for the resources Terraform runs managed on AWS (RDS, Aurora, DocumentDB, ElastiCache, SQS, MSK). A resource that runs in the cluster, or on another cloud, in every environment has none, so its `alarms { ... }` thresholds would be dropped in silence; the in-cluster resource is watched by the Prometheus rules instead (database down, disk filling).\n\nExample:\n\n    resource cache = redis { placement = in_cluster  alarms { memory_used = 75% } }   // W0011";
    W0012 = "W0012", Warning, "custom metrics no dashboard charts",
        "Declare `metrics = prometheus` and `dashboards = grafana` in `observability`, and give the service a port Prometheus scrapes.",
        "`custom_metrics` become panels of the Grafana dashboards deployc generates, querying the series the ServiceMonitor scrapes from the service's metrics port. Without Prometheus metrics or Grafana dashboards, or on a service that is not scraped (no port, such as a worker or job, or `metrics = false`), nothing charts them.\n\nExample:\n\n    service jobs { kind = worker  custom_metrics = [{ name = \"jobs_done_total\" kind = counter }] }   // W0012: no port to scrape";
    W0013 = "W0013", Warning, "post-deploy tests CI cannot reach",
        "Expose the service through an ingress, or run its suite from a service that is exposed.",
        "An environment's `after` asks for smoke, integration or performance tests, and a service deployed there declares them in its toolchain, but the service has no public route (`expose = ingress`). CI runs these suites from outside the cluster against `BASE_URL`, the service's public URL, so this service's suite is skipped in that environment.\n\nExample:\n\n    toolchain worker-py { family = python  smoke = [\"pytest tests/smoke\"] }\n    service jobs { language = worker-py  port = 8080 }                     // no expose\n    environment staging { promote = on_push(\"main\")  after = [smoke_tests] }   // W0013";
    W0016 = "W0016", Warning, "Sentry release without its organisation or project",
        "Name the Sentry organisation and project slugs (`org`, `project`) beside `auth_token`, or remove `auth_token`.",
        "A `sentry` integration with an `auth_token` asks CI to create a Sentry release after every verified deploy: one release per deployed image tag (the name the pods report as `SENTRY_RELEASE`), finalized and marked deployed to the environment, with sentry-cli (pinned in `stdlib/actions.toml`, installed from PyPI). sentry-cli needs the organisation and the project to create a release; without them no release is created.\n\nExample:\n\n    integration sentry = sentry { dsn = secret(\"sentry-dsn\")  auth_token = secret(\"sentry-auth-token\") }   // W0016: no org, no project";
    E0398 = "E0398", Error, "SLO objective or window out of range",
        "Write `availability` above 0% and below 100% (such as 99.9%) and a `window` of whole days from 1d to 90d (30d by default).",
        "`slo { availability = 99.9% window = 30d }` gives the service an error budget of 0.1% of its requests over the last 30 days. The alerts deployc writes fire when that budget burns too fast: 2% of it within an hour, 5% within six hours, 10% within three days (the multiwindow, multi-burn-rate alerts of Google's SRE workbook), each confirmed over a shorter window so they stop soon after the errors do. At 100% the budget is zero and every threshold is zero; at 0% there is nothing to protect. Prometheus keeps a rate over whole days reliably only within its retention, so the window is 1 to 90 days.\n\nExample:\n\n    service api { ... slo { availability = 100% } }   // E0398: no error budget";
    E0399 = "E0399", Error, "SLO on requests nothing measures",
        "Declare `observability { metrics = prometheus }` and give the service a `port` with `metrics` on (the default), or remove its `slo`.",
        "An objective is measured on `http_requests_total` of the service, scraped by its ServiceMonitor: the share of requests with a 5xx code. A program without Prometheus metrics, a worker or job without a port, or a service with `metrics = false` has no such series, so the burn-rate alerts would never fire and the SLO dashboard would stay empty, while the program reads as if the objective were watched.\n\nExample:\n\n    service worker { kind = worker ... slo { availability = 99.9% } }   // E0399: no requests";
    W0019 = "W0019", Warning, "maintenance updates without GitHub",
        "Host the repository on GitHub (`repository = \"github.com/OWNER/NAME\"`), or remove `maintenance` and schedule updates in your own tool (Renovate runs on GitLab and elsewhere).",
        "`pipeline { maintenance { ... } }` becomes `.github/dependabot.yml`: one Dependabot entry per package ecosystem and folder (the services' package manifests, by their toolchains' package managers) and one `docker` entry per Dockerfile folder (the base images), on the declared schedules. Dependabot only reads that file in a repository hosted on GitHub, whatever CI builds it (Jenkins included); elsewhere the file would be written and nothing would open the pull requests.\n\nExample:\n\n    project shop { repository = \"gitlab.com/acme/shop\" ... }\n    pipeline { maintenance { dependencies = weekly } }   // W0019";
    W0020 = "W0020", Warning, "pull-request checks under a CI that does not run them",
        "Build with `provider = github_actions`, or remove `pr_checks` and configure merge request checks in your CI.",
        "`pipeline { pr_checks { ... } }` becomes `pr-checks.yml` (and the coverage check of `ci.yml`'s test jobs), GitHub Actions workflows. Jenkins and GitLab pipelines from this output run no pull-request checks, so under them the block would be accepted and nothing would check the pull requests.\n\nExample:\n\n    pipeline { provider = jenkins  pr_checks { title = true } }   // W0020";
    W0022 = "W0022", Warning, "Docker Hub namespace that reads as a registry host",
        "Write the Docker Hub user or organisation (\"acme\"); for another registry use `ghcr` or `ecr`, or deploy prebuilt images by their full reference.",
        "`registry = dockerhub { namespace = ... }` pushes every image built here to Docker Hub, as `docker.io/NAMESPACE/IMAGE`. Docker Hub's names are lowercase letters and digits (organisations also `-` and `_`), never a dot, so a namespace such as `registry.example.com` is a registry host written in the wrong place: CD would push to `docker.io/registry.example.com/...`, a repository nobody can own, and every pull would fail. deployc has no registry kind for a private host yet.\n\nExample:\n\n    project p { registry = dockerhub { namespace = \"registry.example.com\" } }   // W0022";
    W0021 = "W0021", Warning, "risk rule under a CI that does not render it yet",
        "Build with `provider = jenkins`, or keep the rule: every release then takes the canary, the safe side.",
        "`risk { ... }` is rendered by the Jenkins pipeline: a risk step decides each release's risk, low-risk releases are promoted in full after the sync, and the canary's approval asks only for high-risk ones. The GitHub Actions and GitLab CI renderers do not decide a release's risk yet, so there every release goes through the canary and its approval, as without the rule.\n\nExample:\n\n    pipeline { provider = gitlab }\n    environment prod { strategy = canary-analyzed  risk { paths = [\"db/**\"] } }   // W0021";
    W0014 = "W0014", Warning, "backups stay in the cluster",
        "Run the environment on `cloud = aws { ... account = \"...\" }` (or name the account on the ECR registry) or on `cloud = gcp { ... }` so the backups are copied to an S3 or GCS bucket, or copy the backup volumes off the cluster yourself.",
        "In-cluster databases with a `backup` block are dumped by a CronJob onto a volume in their own namespace. On AWS, with the account known (the `aws` cloud block's `account` or the ECR registry's), deployc also copies every dump to an S3 bucket of the environment through an IRSA role, and on GCP to a GCS bucket of the environment through a Google service account bound by GKE Workload Identity; either way a weekly restore drill restores the newest copy. Without that — Azure (which has no off-cluster copy yet) or an AWS account the program does not name (the role ARN of the ServiceAccount annotation needs it) — the backups live only in the cluster: losing the namespace or the cluster loses them, and there is no recovery drill.\n\nExample:\n\n    project p { cloud = aws { region = \"us-east-1\" } }\n    resource db = postgres { placement = in_cluster backup { schedule = daily } }\n\n    $ deployc build p.dpl\n    warning[W0014]: backups of `db` stay in the cluster (environments: prod): the program names no AWS account";
}
