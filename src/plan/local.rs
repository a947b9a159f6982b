//! The local development plan: the system as containers on one machine,
//! rendered by the compose target (`compose/docker-compose.yml`).
//!
//! Every service is built from its build context; every database, cache and
//! Kafka runs as a container whatever its placement in the environments (a
//! laptop has no RDS); queues and buckets exist only in the cloud, so what
//! reads them gets a variable the developer fills. Values that are secrets in
//! the cluster (passwords, `secret(...)`) are never written: they are Compose
//! variables the developer sets in `compose/.env`, and a missing one stops
//! `docker compose` with a message naming it.
//!
//! **Invariant:** every program string reaches Compose as data: `$` in a
//! literal is written `$$`, so the only interpolations are the `${VAR:?...}`
//! this module writes for the variables it lists in [`LocalPlan::variables`].

use super::engines;
use crate::model::{AttrRef, AttrTarget, Engine, EnvValue, Model, Probe, Resource, Service, TPart, Template};
use std::collections::{BTreeMap, BTreeSet};

/// What a dependent waits for (Compose's `depends_on.condition`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    Started,
    Healthy,
    CompletedSuccessfully,
}

impl Condition {
    pub fn word(self) -> &'static str {
        match self {
            Condition::Started => "service_started",
            Condition::Healthy => "service_healthy",
            Condition::CompletedSuccessfully => "service_completed_successfully",
        }
    }
}

/// How a service image is built: paths relative to the compose file.
#[derive(Clone, Debug, PartialEq)]
pub struct Build {
    pub context: String,
    /// Relative to the context, as Compose reads it.
    pub dockerfile: String,
    pub target: Option<String>,
}

/// Compose Watch: what happens when a file of the build context changes.
#[derive(Clone, Debug, PartialEq)]
pub struct Watch {
    /// `sync`, `sync+restart` or `rebuild`.
    pub action: &'static str,
    pub path: String,
    pub target: Option<String>,
    pub ignore: Vec<String>,
}

/// A container command check (`healthcheck.test`).
#[derive(Clone, Debug, PartialEq)]
pub struct Healthcheck {
    pub test: Vec<String>,
    pub interval: &'static str,
    pub timeout: &'static str,
    pub retries: u32,
    pub start_period: &'static str,
}

/// One container of the local system.
#[derive(Clone, Debug, PartialEq)]
pub struct Container {
    pub name: String,
    pub image: Option<String>,
    pub build: Option<Build>,
    pub command: Vec<String>,
    pub environment: BTreeMap<String, String>,
    /// (host port on 127.0.0.1, container port).
    pub ports: Vec<(u16, u16)>,
    pub depends_on: BTreeMap<String, Condition>,
    pub healthcheck: Option<Healthcheck>,
    /// (named volume, path in the container).
    pub volumes: Vec<(String, String)>,
    pub watch: Option<Watch>,
    /// A one-shot container (migrations): not restarted when it exits.
    pub one_shot: bool,
}

/// A Compose variable the developer sets in `compose/.env`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Variable {
    pub name: String,
    /// What it is, for `.env.example`.
    pub about: String,
}

/// The whole local system.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalPlan {
    /// The Compose project name.
    pub project: String,
    /// Services, their migrations and the resources, sorted by name.
    pub containers: Vec<Container>,
    /// Named volumes holding the resources' data.
    pub volumes: Vec<String>,
    /// Variables the developer fills, sorted by name.
    pub variables: Vec<Variable>,
    /// From the compose folder up to the repository root, e.g. `../..`.
    pub root: String,
}

/// One engine as a local container: image, environment, command, health
/// check and data path. A row per engine that runs locally.
struct LocalEngine {
    engine: Engine,
    /// The data folder kept in a named volume.
    data_path: &'static str,
    /// Publish the port on 127.0.0.1 (database tools on the host).
    publish: bool,
}

const LOCAL_ENGINES: &[LocalEngine] = &[
    LocalEngine { engine: Engine::Postgres, data_path: "/var/lib/postgresql/data", publish: true },
    LocalEngine { engine: Engine::Redis, data_path: "/data", publish: true },
    LocalEngine { engine: Engine::MongoDb, data_path: "/data/db", publish: true },
    // Kafka advertises its container name, which only other containers
    // resolve, so publishing the port would give the host a broker it
    // cannot follow.
    LocalEngine { engine: Engine::Kafka, data_path: "/var/lib/kafka/data", publish: false },
];

fn local_engine(e: &Engine) -> Option<&'static LocalEngine> {
    LOCAL_ENGINES.iter().find(|l| &l.engine == e)
}

/// A Compose variable name from a declaration name: upper case, `-` as `_`.
fn var_name(parts: &[&str]) -> String {
    parts.iter().map(|p| p.to_ascii_uppercase().replace('-', "_")).collect::<Vec<_>>().join("_")
}

/// `${NAME:?...}`: Compose stops with the message when the variable is unset
/// or empty.
fn required(name: &str) -> String {
    format!("${{{name}:?set {name} in compose/.env (see .env.example)}}")
}

/// A program string as Compose data: `$` would start an interpolation.
fn data(s: &str) -> String {
    s.replace('$', "$$")
}

struct Builder<'m> {
    model: &'m Model,
    variables: BTreeSet<Variable>,
}

impl<'m> Builder<'m> {
    fn var(&mut self, name: String, about: String) -> String {
        let text = required(&name);
        self.variables.insert(Variable { name, about });
        text
    }

    fn password(&mut self, r: &Resource) -> String {
        self.var(
            var_name(&[&r.name, "password"]),
            format!(
                "password of the local {} `{}` (any local-only value of letters and digits: it is also written into URLs)",
                r.engine.word(),
                r.name
            ),
        )
    }

    /// The value of `resource.attr` on the local network.
    fn resource_attr(&mut self, r: &Resource, attr: &str) -> String {
        let port = engines::engine_port(&r.engine);
        match (&r.engine, attr) {
            (Engine::Queue | Engine::Bucket, _) => self.var(
                var_name(&[&r.name, attr]),
                format!(
                    "`{}.{attr}`: the {} runs only in the cloud; point it at a development one or a local emulator",
                    r.name,
                    r.engine.word()
                ),
            ),
            (Engine::Kafka, "url") => format!("{}:{port}", r.name),
            (_, "url") => {
                let password = self.password(r);
                engines::connection_url(r, &r.name, &password).unwrap_or_default()
            }
            (_, "host") => r.name.clone(),
            (_, "port") => port.to_string(),
            (_, "name") => data(&r.database),
            _ => String::new(),
        }
    }

    fn attr(&mut self, a: &AttrRef) -> String {
        let m = self.model;
        match &a.target {
            // Containers reach each other by service name on the container
            // port: Compose has no Service object translating ports.
            AttrTarget::Service(name) => {
                let port = m.service_by_name(name).and_then(|s| s.port).unwrap_or_default();
                match a.attr.as_str() {
                    "url" => format!("http://{name}:{port}"),
                    "address" => format!("{name}:{port}"),
                    "host" => name.clone(),
                    _ => port.to_string(),
                }
            }
            AttrTarget::Resource(name) => match m.resource_by_name(name) {
                Some(r) => self.resource_attr(r, &a.attr),
                None => String::new(),
            },
            AttrTarget::Project | AttrTarget::Env => data(&crate::model::render_env(
                &Template { parts: vec![TPart::Ref(a.clone())] },
                &m.project,
                "local",
                &m.project.name,
                "localhost",
            )),
        }
    }

    fn value(&mut self, v: &EnvValue) -> String {
        match v {
            EnvValue::Secret { name, key } => {
                let mut parts = vec!["secret", name.as_str()];
                if let Some(k) = key {
                    parts.push("");
                    parts.push(k);
                }
                let about = match key {
                    Some(k) => format!("key `{k}` of secret(\"{name}\"): a local-only value, never the real one"),
                    None => format!("secret(\"{name}\"): a local-only value, never the real one"),
                };
                self.var(var_name(&parts), about)
            }
            EnvValue::Ref(a) => self.attr(a),
            EnvValue::Literal(t) => t
                .parts
                .iter()
                .map(|p| match p {
                    TPart::Lit(s) => data(s),
                    TPart::Ref(a) => self.attr(a),
                })
                .collect(),
        }
    }

    fn resource(&mut self, r: &Resource) -> Option<Container> {
        let local = local_engine(&r.engine)?;
        let port = engines::engine_port(&r.engine);
        let mut environment = BTreeMap::new();
        let mut command = Vec::new();
        let check = |test: &[&str]| Healthcheck {
            test: test.iter().map(|s| s.to_string()).collect(),
            interval: "5s",
            timeout: "5s",
            retries: 20,
            start_period: "10s",
        };
        let (image, healthcheck) = match r.engine {
            Engine::Postgres => {
                environment.insert("POSTGRES_USER".into(), "app".into());
                environment.insert("POSTGRES_DB".into(), data(&r.database));
                environment.insert("POSTGRES_PASSWORD".into(), self.password(r));
                // `pg_isready` reads the database from the variables the
                // container already has; `$$` escapes Compose.
                let hc = check(&["CMD-SHELL", "pg_isready -U \"$$POSTGRES_USER\" -d \"$$POSTGRES_DB\""]);
                (engines::resource_image(&r.engine, &r.version), hc)
            }
            Engine::Redis => {
                let password = self.password(r);
                command = ["redis-server", "--requirepass", password.as_str(), "--appendonly", "yes"]
                    .map(String::from)
                    .to_vec();
                // redis-cli reads the password from REDISCLI_AUTH.
                environment.insert("REDISCLI_AUTH".into(), password);
                (engines::resource_image(&r.engine, &r.version), check(&["CMD", "redis-cli", "ping"]))
            }
            Engine::MongoDb => {
                environment.insert("MONGO_INITDB_ROOT_USERNAME".into(), "admin".into());
                environment.insert("MONGO_INITDB_DATABASE".into(), data(&r.database));
                environment.insert("MONGO_INITDB_ROOT_PASSWORD".into(), self.password(r));
                // `ping` needs no authentication.
                let hc = check(&["CMD", "mongosh", "--quiet", "--eval", "db.adminCommand('ping').ok"]);
                (engines::resource_image(&r.engine, &r.version), hc)
            }
            Engine::Kafka => {
                // One KRaft node that is broker and controller, advertising
                // its container name to the other containers.
                for (k, v) in [
                    ("KAFKA_NODE_ID", "1".to_string()),
                    ("KAFKA_PROCESS_ROLES", "broker,controller".into()),
                    ("KAFKA_LISTENERS", format!("PLAINTEXT://:{port},CONTROLLER://:9093")),
                    ("KAFKA_ADVERTISED_LISTENERS", format!("PLAINTEXT://{}:{port}", r.name)),
                    ("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER".into()),
                    ("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT".into()),
                    ("KAFKA_CONTROLLER_QUORUM_VOTERS", "1@localhost:9093".into()),
                    ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1".into()),
                    ("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1".into()),
                    ("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1".into()),
                    ("KAFKA_LOG_DIRS", local.data_path.into()),
                    ("KAFKA_NUM_PARTITIONS", r.partitions.to_string()),
                ] {
                    environment.insert(k.to_string(), v);
                }
                let probe = format!(
                    "/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server localhost:{port} > /dev/null"
                );
                (format!("docker.io/apache/kafka:{}", r.version), check(&["CMD-SHELL", probe.as_str()]))
            }
            Engine::Queue | Engine::Bucket => return None,
        };
        Some(Container {
            name: r.name.clone(),
            image: Some(data(&image)),
            build: None,
            command,
            environment,
            ports: if local.publish { vec![(0, port)] } else { Vec::new() },
            depends_on: BTreeMap::new(),
            healthcheck: Some(healthcheck),
            volumes: vec![(format!("{}-data", r.name), local.data_path.to_string())],
            watch: None,
            one_shot: false,
        })
    }

    fn build(&self, s: &Service, root: &str) -> Build {
        let context = s.build_context.trim_end_matches('/');
        let under = if context == "." {
            Some(s.dockerfile.as_str())
        } else {
            s.dockerfile.strip_prefix(&format!("{context}/"))
        };
        // A Dockerfile outside the context is named from the context.
        let dockerfile = match under {
            Some(d) => d.to_string(),
            None => {
                let up = context.split('/').filter(|c| !c.is_empty() && *c != ".").map(|_| "..").collect::<Vec<_>>();
                format!("{}/{}", up.join("/"), s.dockerfile)
            }
        };
        Build {
            context: join(root, context),
            dockerfile: data(&dockerfile),
            target: s.build_target.as_deref().map(data),
        }
    }

    fn service(&mut self, s: &Service, root: &str) -> Vec<Container> {
        let m = self.model;
        let environment: BTreeMap<String, String> = s.env.iter().map(|(k, v)| (k.clone(), self.value(v))).collect();
        let local = s.local.clone().unwrap_or_default();
        let build = self.build(s, root);
        let mut depends_on: BTreeMap<String, Condition> = BTreeMap::new();
        for d in &s.depends_on {
            depends_on.insert(m.service(*d).name.clone(), Condition::Started);
        }
        let mut resources = BTreeMap::new();
        for r in &s.uses {
            let r = m.resource(*r);
            if local_engine(&r.engine).is_some() {
                resources.insert(r.name.clone(), Condition::Healthy);
            }
        }
        depends_on.extend(resources.clone());
        let mut out = Vec::new();
        if let Some(mig) = &s.migrations {
            let name = format!("{}-migrate", s.name);
            depends_on.insert(name.clone(), Condition::CompletedSuccessfully);
            out.push(Container {
                name,
                image: None,
                build: Some(build.clone()),
                command: mig.command.iter().map(|c| data(c)).collect(),
                environment: environment.clone(),
                ports: Vec::new(),
                depends_on: resources,
                healthcheck: None,
                volumes: Vec::new(),
                watch: None,
                one_shot: true,
            });
        }
        // Only a command probe can be repeated by Compose: an HTTP check
        // would need curl or wget in the team's image.
        let healthcheck = match &s.health {
            Some(Probe::Exec { command }) => Some(Healthcheck {
                test: std::iter::once("CMD".to_string()).chain(command.iter().map(|c| data(c))).collect(),
                interval: "10s",
                timeout: "5s",
                retries: 6,
                start_period: "30s",
            }),
            _ => None,
        };
        let watch = Some(match &local.sync {
            Some(target) => Watch {
                // A dev command reloads by itself; the image's own command
                // is restarted after the copy.
                action: if local.command.is_empty() { "sync+restart" } else { "sync" },
                path: build.context.clone(),
                target: Some(data(target)),
                ignore: local.ignore.iter().map(|i| data(i)).collect(),
            },
            None => Watch {
                action: "rebuild",
                path: build.context.clone(),
                target: None,
                ignore: local.ignore.iter().map(|i| data(i)).collect(),
            },
        });
        out.push(Container {
            name: s.name.clone(),
            image: None,
            build: Some(build),
            command: local.command.iter().map(|c| data(c)).collect(),
            environment,
            ports: s.port.map(|p| (local.port.unwrap_or(0), p)).into_iter().collect(),
            depends_on,
            healthcheck,
            volumes: Vec::new(),
            watch,
            one_shot: false,
        });
        out
    }
}

/// `root/path`, without `./` noise.
fn join(root: &str, path: &str) -> String {
    let path = path.trim_start_matches("./");
    if path.is_empty() || path == "." {
        root.to_string()
    } else {
        format!("{root}/{}", data(path))
    }
}

impl LocalPlan {
    /// Plans the local system of a checked program.
    pub fn new(model: &Model) -> Self {
        // The compose file sits in `compose/` of the output tree, which is
        // committed at the GitOps path of the repository.
        let depth = model.project.gitops.path.split('/').filter(|c| !c.is_empty() && *c != ".").count() + 1;
        let root = vec![".."; depth].join("/");
        let mut b = Builder { model, variables: BTreeSet::new() };
        let mut containers = Vec::new();
        for s in &model.services {
            containers.extend(b.service(s, &root));
        }
        let mut volumes = Vec::new();
        for r in &model.resources {
            if let Some(c) = b.resource(r) {
                volumes.extend(c.volumes.iter().map(|(v, _)| v.clone()));
                containers.push(c);
            }
        }
        containers.sort_by(|a, b| a.name.cmp(&b.name));
        volumes.sort();
        allocate_ports(model, &mut containers);
        LocalPlan {
            project: model.project.name.clone(),
            containers,
            volumes,
            variables: b.variables.into_iter().collect(),
            root,
        }
    }
}

/// Host ports: the ones the program names are kept (the checker keeps them
/// distinct), then each other container's own port or the next free one
/// above it, services before resources, in name order.
fn allocate_ports(model: &Model, containers: &mut [Container]) {
    // Only ports the program names are set (non-zero) before this runs.
    let mut taken: BTreeSet<u16> =
        containers.iter().flat_map(|c| c.ports.iter().map(|p| p.0)).filter(|p| *p != 0).collect();
    let mut order: Vec<usize> = (0..containers.len()).collect();
    order.sort_by_key(|&i| (model.service_by_name(&containers[i].name).is_none(), containers[i].name.clone()));
    // Ports only get taken, so a search for the same wanted port resumes
    // where the last one stopped: linear, not quadratic, when thousands of
    // services want the same port.
    let mut resume: std::collections::HashMap<u16, u16> = std::collections::HashMap::new();
    for i in order {
        for p in containers[i].ports.iter_mut().filter(|p| p.0 == 0) {
            let mut host = resume.get(&p.1).copied().unwrap_or(p.1);
            while taken.contains(&host) && host < u16::MAX {
                host += 1;
            }
            taken.insert(host);
            resume.insert(p.1, host);
            p.0 = host;
        }
    }
}
