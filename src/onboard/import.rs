//! `deployc import`: a program from Kubernetes manifests (any number of
//! multi-document YAML texts: a folder, `helm template` or `kustomize build`
//! output) or from a Compose file. Carried: per workload its image (a
//! tagged or digested reference as a prebuilt image, exactly), first
//! container port and Service port, environment (literals, Secret and
//! ConfigMap references), liveness and readiness probes, cpu and memory,
//! replicas. Everything else becomes a `// not imported: …` line.

use super::{cpu, dedupe, link_resources, memory, name, resource_of, Draft, EnvValue, Probe, Resource, Service};
use serde_yaml_ng::Value;
use std::collections::BTreeMap;

/// `v[key]` for a mapping, `Null` otherwise.
fn get<'a>(v: &'a Value, key: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    v.get(key).unwrap_or(&NULL)
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn port(v: &Value) -> Option<u16> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()).filter(|p| *p > 0),
        Value::String(s) => s.parse().ok().filter(|p| *p > 0),
        _ => None,
    }
}

/// An environment variable name the language takes as a field name.
fn env_name_ok(k: &str) -> bool {
    let mut c = k.chars();
    c.next().is_some_and(|f| f.is_ascii_alphabetic() || f == '_') && c.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The image's repository path without registry host and tag, as a
/// registry-relative `image`, and the toolchain its name suggests.
fn image_parts(image: &str) -> (String, &'static str) {
    let no_digest = image.split('@').next().unwrap_or(image);
    let mut parts: Vec<&str> = no_digest.split('/').collect();
    if parts.len() > 1 && (parts[0].contains('.') || parts[0].contains(':') || parts[0] == "localhost") {
        parts.remove(0);
    }
    let path = parts.join("/");
    let path = match path.rsplit_once(':') {
        Some((p, _)) => p.to_string(),
        None => path,
    };
    // What a registry accepts in a repository path.
    let path: String = path
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-' | '/'))
        .collect();
    let lower = path.to_ascii_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    let table: &[(&str, &str)] = &[
        ("python", "python"),
        ("py", "python"),
        ("golang", "go"),
        ("go", "go"),
        ("java", "java"),
        ("jdk", "java"),
        ("spring", "java"),
        ("node", "node"),
    ];
    let language = table.iter().find(|(k, _)| words.contains(k)).map_or("node", |(_, l)| l);
    (path, language)
}

fn set_image(s: &mut Service, image: &str) {
    // A reference with a tag or digest is a prebuilt image: deployed as
    // written, nothing to build, no toolchain.
    if crate::image::parse(image).is_ok_and(|r| r.is_pinned()) {
        s.image = Some(image.to_string());
        s.language = String::new();
        s.language_note = None;
        return;
    }
    let (path, language) = image_parts(image);
    s.language = language.to_string();
    s.language_note = Some("a guess from the image name: set the toolchain that builds it".into());
    s.not_imported.push(format!(
        "the prebuilt image {image} (the program builds and pushes {path} to the project's registry; set `build` or the registry)"
    ));
    s.image = Some(path);
}

/// Every document of every text, `List` items flattened.
fn documents(texts: &[(String, String)]) -> Result<Vec<Value>, String> {
    use serde::Deserialize;
    let mut out = Vec::new();
    for (path, t) in texts {
        for doc in serde_yaml_ng::Deserializer::from_str(t) {
            let v = Value::deserialize(doc).map_err(|e| format!("{path}: {e}"))?;
            if v.is_null() {
                continue;
            }
            if get(&v, "kind").as_str() == Some("List") {
                out.extend(get(&v, "items").as_sequence().cloned().unwrap_or_default());
            } else {
                out.push(v);
            }
        }
    }
    Ok(out)
}

fn k8s_probe(p: &Value, named: &BTreeMap<String, u16>, main_port: Option<u16>) -> Option<Probe> {
    let resolve = |v: &Value| port(v).or_else(|| v.as_str().and_then(|n| named.get(n).copied()));
    let keep = |pt: Option<u16>| pt.filter(|p| Some(*p) != main_port);
    if let Some(h) = p.get("httpGet") {
        let path = get(h, "path").as_str().unwrap_or("/").to_string();
        return Some(Probe::Http { path, port: keep(resolve(get(h, "port"))) });
    }
    if let Some(t) = p.get("tcpSocket") {
        return Some(Probe::Tcp { port: keep(resolve(get(t, "port"))) });
    }
    if let Some(g) = p.get("grpc") {
        return Some(Probe::Grpc { port: keep(resolve(get(g, "port"))) });
    }
    if let Some(e) = p.get("exec") {
        let command: Vec<String> = get(e, "command").as_sequence()?.iter().filter_map(text).collect();
        return (!command.is_empty()).then_some(Probe::Exec { command });
    }
    None
}

/// The resources block as (request, limit) pairs, and what it lacked.
fn k8s_resources(r: &Value, s: &mut Service) {
    for (key, conv, slot) in [("cpu", cpu as fn(&str) -> Option<String>, 0), ("memory", memory, 1)] {
        let req = text(get(get(r, "requests"), key));
        let lim = text(get(get(r, "limits"), key));
        let pair = match (req.as_deref().map(conv), lim.as_deref().map(conv)) {
            (Some(Some(a)), Some(Some(b))) => Some((a, b)),
            (Some(Some(a)), None) => {
                s.not_imported.push(format!("{key} has a request and no limit: the range uses the request for both"));
                Some((a.clone(), a))
            }
            (None, Some(Some(b))) => Some((b.clone(), b)),
            (None, None) => None,
            _ => {
                s.not_imported.push(format!(
                    "{key} {} / {} (a quantity the language does not write)",
                    req.unwrap_or_default(),
                    lim.unwrap_or_default()
                ));
                None
            }
        };
        if slot == 0 {
            s.cpu = pair;
        } else {
            s.memory = pair;
        }
    }
}

/// A draft from Kubernetes manifests: `texts` are (file name, YAML text).
pub fn kubernetes(texts: &[(String, String)], project: &str) -> Result<Draft, String> {
    let docs = documents(texts)?;
    let kind_name = |d: &Value| {
        (
            get(d, "kind").as_str().unwrap_or("?").to_string(),
            get(get(d, "metadata"), "name").as_str().unwrap_or("?").to_string(),
        )
    };
    let config_maps: BTreeMap<String, &Value> = docs
        .iter()
        .filter(|d| get(d, "kind").as_str() == Some("ConfigMap"))
        .map(|d| (kind_name(d).1, get(d, "data")))
        .collect();
    let services: Vec<&Value> = docs.iter().filter(|d| get(d, "kind").as_str() == Some("Service")).collect();
    let mut d = Draft {
        project: project.to_string(),
        repository: format!("github.com/acme/{}", name(project, "app")),
        header: vec![format!("Imported by `deployc import` from {} file(s) of Kubernetes manifests.", texts.len())],
        ..Draft::default()
    };
    let mut used_services = Vec::new();
    for doc in &docs {
        let (kind, obj) = kind_name(doc);
        if !matches!(kind.as_str(), "Deployment" | "StatefulSet" | "Rollout") {
            if !matches!(kind.as_str(), "Service" | "ConfigMap" | "Namespace") {
                d.not_imported.push(format!("{kind}/{obj}"));
            }
            continue;
        }
        let spec = get(doc, "spec");
        let pod = get(get(spec, "template"), "spec");
        let containers = get(pod, "containers").as_sequence().cloned().unwrap_or_default();
        let Some(c) = containers.first() else {
            d.not_imported.push(format!("{kind}/{obj} (no containers)"));
            continue;
        };
        let image = get(c, "image").as_str().unwrap_or(&obj).to_string();
        if let Some((rkind, version)) = resource_of(&image) {
            let labels = get(get(get(spec, "template"), "metadata"), "labels");
            for svc in &services {
                if get(get(svc, "spec"), "selector")
                    .as_mapping()
                    .is_some_and(|sel| !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v)))
                {
                    used_services.push(kind_name(svc).1);
                }
            }
            d.resources.push(Resource {
                name: name(&obj, "db"),
                kind: rkind,
                version,
                comments: vec![format!(
                    "{kind}/{obj} ran {image}: a resource, managed (Terraform) or in the cluster per environment"
                )],
            });
            continue;
        }
        let mut s = Service { name: name(&obj, "app"), ..Service::default() };
        if kind != "Deployment" {
            s.comments.push(format!("from {kind}/{obj}"));
        }
        if kind == "StatefulSet" {
            s.not_imported
                .push("the StatefulSet's identity and volume claims: this is a Deployment now, or a `resource`".into());
        }
        for extra in containers.iter().skip(1) {
            s.not_imported.push(format!("sidecar container {}", get(extra, "name").as_str().unwrap_or("?")));
        }
        if let Some(init) = get(pod, "initContainers").as_sequence() {
            s.not_imported.push(format!("{} init container(s)", init.len()));
        }
        set_image(&mut s, &image);
        let ports = get(c, "ports").as_sequence().cloned().unwrap_or_default();
        let named: BTreeMap<String, u16> = ports
            .iter()
            .filter_map(|p| Some((get(p, "name").as_str()?.to_string(), port(get(p, "containerPort"))?)))
            .collect();
        s.port = ports.first().and_then(|p| port(get(p, "containerPort")));
        for extra in ports.iter().skip(1) {
            s.not_imported.push(format!("container port {}", text(get(extra, "containerPort")).unwrap_or_default()));
        }
        if let Some(h) = c.get("livenessProbe").and_then(|p| k8s_probe(p, &named, s.port)) {
            s.health = Some(h);
        }
        if let Some(r) = c.get("readinessProbe").and_then(|p| k8s_probe(p, &named, s.port)) {
            if s.health.is_none() {
                s.not_imported.push("a readiness probe without a liveness probe: `health` sets both".into());
                s.health = Some(r.clone());
            }
            s.readiness = Some(r);
        }
        if ["livenessProbe", "readinessProbe", "startupProbe"].iter().any(|p| {
            c.get(*p).and_then(Value::as_mapping).is_some_and(|m| {
                m.keys().any(|k| k.as_str().is_some_and(|k| k.ends_with("Seconds") || k.ends_with("Threshold")))
            })
        }) {
            s.not_imported.push("probe timings (delays, periods, thresholds)".into());
        }
        if c.get("startupProbe").is_some() {
            s.not_imported.push("the startup probe".into());
        }
        k8s_resources(get(c, "resources"), &mut s);
        s.replicas = get(spec, "replicas").as_u64().and_then(|r| u32::try_from(r).ok());
        for e in get(c, "env").as_sequence().cloned().unwrap_or_default() {
            let Some(k) = get(&e, "name").as_str() else { continue };
            if !env_name_ok(k) {
                s.not_imported.push(format!("env {k} (a name the language does not take)"));
                continue;
            }
            if let Some(v) = e.get("value") {
                s.env.push((k.to_string(), EnvValue::Literal(text(v).unwrap_or_default())));
            } else if let Some(sk) = get(&e, "valueFrom").get("secretKeyRef") {
                let secret = get(sk, "name").as_str().unwrap_or(k);
                s.env.push((k.to_string(), EnvValue::Secret(name(secret, "secret"))));
                s.comments
                    .push(format!("{k} came from key {} of Secret {secret}", get(sk, "key").as_str().unwrap_or("?")));
            } else if let Some(cm) = get(&e, "valueFrom").get("configMapKeyRef") {
                let (cm_name, key) = (get(cm, "name").as_str().unwrap_or(""), get(cm, "key").as_str().unwrap_or(""));
                match config_maps.get(cm_name).and_then(|data| text(get(data, key))) {
                    Some(v) => s.env.push((k.to_string(), EnvValue::Literal(v))),
                    None => s
                        .not_imported
                        .push(format!("env {k} from ConfigMap {cm_name} key {key} (not in the manifests)")),
                }
            } else {
                s.not_imported.push(format!("env {k} (a field reference)"));
            }
        }
        guess_from_env(&mut s);
        if c.get("envFrom").is_some() {
            s.not_imported.push("envFrom".into());
        }
        for f in ["command", "args", "volumeMounts", "securityContext"] {
            if c.get(f).is_some() {
                s.not_imported.push(format!("the container's {f}"));
            }
        }
        // The Service that selects this pod: its port, if it differs.
        let labels = get(get(get(spec, "template"), "metadata"), "labels");
        let selects = |svc: &Value| {
            get(get(svc, "spec"), "selector")
                .as_mapping()
                .is_some_and(|sel| !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v)))
        };
        if let Some(svc) = services.iter().find(|svc| selects(svc)) {
            used_services.push(kind_name(svc).1);
            let sp = get(get(svc, "spec"), "ports").as_sequence().cloned().unwrap_or_default();
            s.service_port = sp.first().and_then(|p| port(get(p, "port")));
            if sp.len() > 1 {
                s.not_imported.push(format!("{} more Service port(s)", sp.len() - 1));
            }
            if let Some(t) = get(get(svc, "spec"), "type").as_str().filter(|t| *t != "ClusterIP") {
                s.not_imported
                    .push(format!("Service type {t} (the language writes `expose = load_balancer` or `ingress`)"));
            }
        }
        d.services.push(s);
    }
    for svc in &services {
        let n = kind_name(svc).1;
        if !used_services.contains(&n) {
            d.not_imported.push(format!("Service/{n} (selects no imported workload)"));
        }
    }
    dedupe(&mut d.services);
    link_resources(&mut d);
    Ok(d)
}

/// A Compose memory size (`512m`, `1g`, `300M`, `1024k`, bytes): its units
/// are binary, so they become `Ki`/`Mi`/`Gi`.
fn compose_memory(q: &str) -> Option<String> {
    let q = q.trim().to_ascii_lowercase();
    let q = q.strip_suffix('b').filter(|r| r.ends_with(['k', 'm', 'g'])).unwrap_or(&q);
    for (suffix, unit) in [("k", "Ki"), ("m", "Mi"), ("g", "Gi")] {
        if let Some(n) = q.strip_suffix(suffix) {
            return n.parse::<u64>().ok().filter(|n| *n > 0).map(|n| format!("{n}{unit}"));
        }
    }
    memory(q)
}

/// A JVM's options in the environment name the toolchain better than the image.
fn guess_from_env(s: &mut Service) {
    if s.language == "node" && s.env.iter().any(|(k, _)| k == "JAVA_OPTS" || k == "JAVA_TOOL_OPTIONS") {
        s.language = "java".into();
        s.language_note = Some("a guess from JAVA_OPTS: set the toolchain that builds it".into());
    }
}

/// A draft from a Compose file.
pub fn compose(yaml: &str, project: &str) -> Result<Draft, String> {
    let v: Value = serde_yaml_ng::from_str(yaml).map_err(|e| e.to_string())?;
    let services = get(&v, "services").as_mapping().ok_or("no `services:` mapping")?;
    let mut d = Draft {
        project: project.to_string(),
        repository: format!("github.com/acme/{}", name(project, "app")),
        header: vec!["Imported by `deployc import` from a Compose file.".into()],
        ..Draft::default()
    };
    for top in ["volumes", "networks", "secrets", "configs"] {
        if get(&v, top).as_mapping().is_some_and(|m| !m.is_empty()) {
            d.not_imported.push(format!("top-level {top}"));
        }
    }
    for (key, c) in services {
        let Some(key) = key.as_str() else { continue };
        let mut s = Service { name: name(key, "app"), ..Service::default() };
        if s.name != key {
            s.comments.push(format!("Compose service {key}"));
        }
        match get(c, "build") {
            Value::String(ctx) => s.build_context = Some(ctx.clone()),
            b @ Value::Mapping(_) => {
                s.build_context = get(b, "context").as_str().map(str::to_string);
                s.dockerfile = get(b, "dockerfile").as_str().map(str::to_string);
            }
            _ => {}
        }
        if let Some((kind, version)) = get(c, "image")
            .as_str()
            .filter(|_| s.build_context.is_none())
            .and_then(|i| resource_of(i).map(|r| (r, i)))
            .map(|((k, v), i)| (k, (v, i.to_string())))
        {
            let (version, image) = version;
            d.resources.push(Resource {
                name: s.name.clone(),
                kind,
                version,
                comments: vec![format!("Compose service {key} ran {image}: a resource, managed (Terraform) or in the cluster per environment")],
            });
            continue;
        }
        match get(c, "image").as_str() {
            Some(image) if s.build_context.is_none() => set_image(&mut s, image),
            _ => {
                s.language = "node".into();
                s.language_note = Some("not known from the Compose file: set the toolchain that builds it".into());
            }
        }
        // The first port: `"8080:80"`, `"80"`, `"127.0.0.1:8080:80/tcp"` or `{target, published}`.
        let ports = get(c, "ports").as_sequence().cloned().unwrap_or_default();
        let parse = |p: &Value| -> Option<(u16, Option<u16>)> {
            match p {
                Value::Mapping(_) => Some((port(get(p, "target"))?, port(get(p, "published")))),
                other => {
                    let t = text(other)?;
                    let t = t.split('/').next()?;
                    let parts: Vec<&str> = t.rsplitn(3, ':').collect();
                    Some((parts[0].parse().ok()?, parts.get(1).and_then(|p| p.parse().ok())))
                }
            }
        };
        if let Some((target, published)) = ports.first().and_then(parse) {
            s.port = Some(target);
            s.service_port = published;
        }
        if s.port.is_none() {
            s.port = get(c, "expose")
                .as_sequence()
                .and_then(|e| e.first())
                .and_then(|p| text(p)?.split('/').next()?.parse().ok());
        }
        for extra in ports.iter().skip(1) {
            s.not_imported.push(format!("port {}", text(extra).unwrap_or_else(|| "(long form)".into())));
        }
        let env: Vec<(String, Option<String>)> = match get(c, "environment") {
            Value::Mapping(m) => m.iter().filter_map(|(k, v)| Some((k.as_str()?.to_string(), text(v)))).collect(),
            Value::Sequence(l) => l
                .iter()
                .filter_map(|i| i.as_str())
                .map(|i| match i.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (i.to_string(), None),
                })
                .collect(),
            _ => Vec::new(),
        };
        for (k, v) in env {
            match v {
                Some(v) if env_name_ok(&k) => s.env.push((k, EnvValue::Literal(v))),
                Some(_) => s.not_imported.push(format!("env {k} (a name the language does not take)")),
                None => s.not_imported.push(format!("env {k} (taken from the host's environment)")),
            }
        }
        if let Some(test) = get(get(c, "healthcheck"), "test").as_sequence() {
            let words: Vec<String> = test.iter().filter_map(text).collect();
            let command = match words.first().map(String::as_str) {
                Some("CMD") => words[1..].to_vec(),
                Some("CMD-SHELL") => vec!["sh".into(), "-c".into(), words[1..].join(" ")],
                _ => Vec::new(),
            };
            if !command.is_empty() {
                s.health = Some(Probe::Exec { command });
            }
        } else if let Some(t) = get(get(c, "healthcheck"), "test").as_str() {
            s.health = Some(Probe::Exec { command: vec!["sh".into(), "-c".into(), t.to_string()] });
        }
        if get(c, "healthcheck").as_mapping().is_some_and(|m| m.len() > 1) {
            s.not_imported.push("healthcheck timings".into());
        }
        guess_from_env(&mut s);
        let deploy = get(c, "deploy");
        s.replicas = get(deploy, "replicas").as_u64().and_then(|r| u32::try_from(r).ok());
        let res = get(deploy, "resources");
        let quantities = |kind: &str| (text(get(get(res, "reservations"), kind)), text(get(get(res, "limits"), kind)));
        for (key, conv) in [("cpus", cpu as fn(&str) -> Option<String>), ("memory", compose_memory)] {
            let (req, lim) = quantities(key);
            let (req, lim) = (req.as_deref().and_then(conv), lim.as_deref().and_then(conv));
            let pair = match (req, lim) {
                (Some(a), Some(b)) => Some((a, b)),
                (Some(a), None) | (None, Some(a)) => Some((a.clone(), a)),
                _ => None,
            };
            if key == "cpus" {
                s.cpu = pair;
            } else {
                s.memory = pair;
            }
        }
        s.depends_on = match get(c, "depends_on") {
            Value::Sequence(l) => l.iter().filter_map(|v| v.as_str()).map(|n| name(n, "app")).collect(),
            Value::Mapping(m) => m.keys().filter_map(|v| v.as_str()).map(|n| name(n, "app")).collect(),
            _ => Vec::new(),
        };
        for f in ["command", "entrypoint", "volumes", "restart", "networks", "env_file", "user", "links"] {
            if get(c, f) != &Value::Null {
                s.not_imported.push(f.to_string());
            }
        }
        d.services.push(s);
    }
    dedupe(&mut d.services);
    split_uses(&mut d);
    link_resources(&mut d);
    Ok(d)
}

/// `depends_on` entries naming a resource become `uses`; names that are
/// neither a service nor a resource are dropped with a note.
fn split_uses(d: &mut Draft) {
    let services: Vec<String> = d.services.iter().map(|s| s.name.clone()).collect();
    let resources: Vec<String> = d.resources.iter().map(|r| r.name.clone()).collect();
    for s in &mut d.services {
        let deps = std::mem::take(&mut s.depends_on);
        for n in deps {
            if resources.contains(&n) {
                s.uses.push(n);
            } else if services.contains(&n) && n != s.name {
                s.depends_on.push(n);
            } else {
                s.not_imported.push(format!("depends_on {n}"));
            }
        }
    }
}
