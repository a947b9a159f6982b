//! Synthetic programs for benchmarks and stress tests: `n` services over `m`
//! environments, with resources, references between services, and canary and
//! blue-green environments. Deterministic for given sizes.

use std::fmt::Write;

/// A valid program with `services` services and `envs` environments (at least 1).
pub fn program(services: usize, envs: usize) -> String {
    let envs = envs.max(1);
    let mut s = String::with_capacity(services * 700 + envs * 400 + 1024);
    s.push_str(
        "project synth {\n  repository = \"github.com/acme/synth\"\n  registry = ecr { region = \"us-east-1\" account = \"123456789012\" }\n  domain = \"synth.example.dev\"\n}\n\n",
    );
    s.push_str("observability { metrics = prometheus }\n\n");
    s.push_str("strategy progressive = canary { steps = [10%, 30%, 60%, 100%] pause = 5m analysis = prometheus }\n");
    s.push_str("strategy switch = blue_green { auto_promote = false scale_down_delay = 30s }\n\n");
    s.push_str("gate secrets = gitleaks\ngate sca = grype { fail_on = high }\n\n");
    // One database and one cache per ten services.
    let groups = services.div_ceil(10).max(1);
    for g in 0..groups {
        let _ = writeln!(s, "resource db-{g} = postgres {{ version = \"16\" read_replicas = 1 backup {{ schedule = daily retain = 30d }} }}");
        let _ = writeln!(s, "resource cache-{g} = redis {{ cluster = true }}");
    }
    s.push('\n');
    let langs = ["typescript", "python", "go", "java", "node"];
    for i in 0..services {
        let g = i / 10;
        let lang = langs[i % langs.len()];
        let _ = write!(
            s,
            "service svc-{i} {{\n  image = \"synth/svc-{i}\"\n  language = {lang}\n  port = 8080\n  health = http {{ path = \"/healthz\" }}\n  cpu = 250m..1\n  memory = 256Mi..512Mi\n  replicas = 2..10\n  env {{\n    DATABASE_URL = db-{g}.url\n    REDIS_URL = cache-{g}.url\n    JWT_SECRET = secret(\"jwt-{i}\")\n    LOG_LEVEL = \"info\"\n"
        );
        // Each service calls the one before it: a long acyclic chain of references.
        if i > 0 {
            let _ = writeln!(s, "    UPSTREAM = svc-{}.url", i - 1);
        }
        s.push_str("  }\n}\n\n");
    }
    for e in 0..envs {
        let strategy = match e % 3 {
            0 => "rolling",
            1 => "progressive",
            _ => "switch",
        };
        let promote = if e == 0 { "on_push(\"main\")".to_string() } else { format!("manual(from = env-{})", e - 1) };
        let production = e + 1 == envs && envs > 1;
        let _ = writeln!(
            s,
            "environment env-{e} {{\n  strategy = {strategy}\n  promote = {promote}\n  production = {production}\n  requires = [secrets, sca]\n  services {{ svc-0 {{ replicas = 3..12 }} }}\n}}\n"
        );
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn synthetic_programs_check_clean() {
        for (n, m) in [(1, 1), (10, 4), (37, 5)] {
            let text = super::program(n, m);
            let c = crate::compile("synth.dpl", &text, &std::collections::BTreeMap::new());
            let errs: Vec<_> = c.diagnostics.items.iter().map(|d| (d.code.as_str(), d.message.clone())).collect();
            assert!(!c.diagnostics.has_errors(), "{n}x{m}: {errs:?}");
            let (model, _) = c.output.expect("model");
            assert_eq!(model.services.len(), n);
            assert_eq!(model.environments.len(), m);
        }
    }
}

/// The peer benchmark's workload (`shared/bench/peers/gen/common.py`): `n`
/// services × dev/staging/prod, each a Deployment, Service and HPA.
pub mod peers {
    use std::fmt::Write;

    /// One service of the workload, as `common.services` defines it.
    struct Svc {
        name: String,
        team: String,
        port: usize,
        /// Which of the four cpu/memory sizes (`i % 4`; the memory limit follows `i % 2`).
        size: usize,
    }

    fn services(n: usize) -> Vec<Svc> {
        (0..n)
            .map(|i| Svc {
                name: format!("svc-{i:05}"),
                team: format!("team-{}", i % 7),
                port: 8000 + i % 1000,
                size: i % 4,
            })
            .collect()
    }

    fn cpu(size: usize) -> String {
        format!("{}m..{}m", 100 + size * 50, 500 + size * 250)
    }
    fn memory(size: usize) -> String {
        format!("{}Mi..{}Mi", 128 * (1 + size), 512 * (1 + size % 2))
    }

    /// name, replicas range, log level, max surge, max unavailable.
    const ENVS: [(&str, &str, &str, u32, u32); 3] =
        [("dev", "1..2", "debug", 1, 0), ("staging", "2..4", "info", 1, 0), ("prod", "5..20", "warn", 2, 1)];

    const HEAD: &str = "project bench {\n  repository = \"github.com/acme/bench\"\n  registry = dockerhub { namespace = \"registry.example.com\" }\n}\n\n";

    fn env_head(out: &mut String, i: usize, name: &str, surge: u32, unavailable: u32) {
        let promote = match i {
            0 => "on_push(\"main\")".to_string(),
            _ => format!("manual(from = {})", ENVS[i - 1].0),
        };
        let _ = write!(out, "\nenvironment {name} {{\n  namespace = \"{name}\"\n  promote = {promote}\n");
        if name == "prod" {
            out.push_str("  production = true\n");
        }
        let _ = writeln!(out, "  strategy = rolling {{ max_surge = {surge} max_unavailable = {unavailable} }}");
    }

    /// The workload written out in full, byte for byte what the shared
    /// `gen_deployc.py` writes: every field of every service, and one
    /// override per service and environment.
    pub fn full(n: usize) -> String {
        let svcs = services(n);
        let mut out = String::from(HEAD);
        for s in &svcs {
            let _ = write!(
                out,
                "service {name} {{\n  image = \"{team}/{name}\"\n  language = go\n  port = {port}\n  service_port = 80\n  health = http {{ path = \"/healthz\" }}\n  readiness = http {{ path = \"/ready\" }}\n  cpu = {cpu}\n  memory = {memory}\n  target_cpu = 70%\n  env {{ DATABASE_URL = \"postgres://db.${{env.name}}.internal:5432/{name}\" }}\n}}\n",
                name = s.name,
                team = s.team,
                port = s.port,
                cpu = cpu(s.size),
                memory = memory(s.size),
            );
        }
        for (i, (name, replicas, log, surge, unavailable)) in ENVS.iter().enumerate() {
            env_head(&mut out, i, name, *surge, *unavailable);
            out.push_str("  services {\n");
            for s in &svcs {
                let _ = writeln!(out, "    {} {{ replicas = {replicas} env {{ LOG_LEVEL = \"{log}\" }} }}", s.name);
            }
            out.push_str("  }\n}\n");
        }
        out
    }

    /// The same workload with reuse: one preset for what every service
    /// shares, one per cpu/memory size, and each environment's replicas and
    /// log level as `service_defaults`. A service states only what is its
    /// own: image, port, size and database URL.
    pub fn with_presets(n: usize) -> String {
        let mut out = String::from(HEAD);
        out.push_str(
            "preset api {\n  language = go\n  service_port = 80\n  health = http { path = \"/healthz\" }\n  readiness = http { path = \"/ready\" }\n  target_cpu = 70%\n}\n",
        );
        for size in 0..4 {
            let _ =
                writeln!(out, "preset api-{size} {{ extends = api cpu = {} memory = {} }}", cpu(size), memory(size));
        }
        for s in services(n) {
            let _ = writeln!(
                out,
                "service {name} {{ extends = api-{size} image = \"{team}/{name}\" port = {port} env {{ DATABASE_URL = \"postgres://db.${{env.name}}.internal:5432/{name}\" }} }}",
                name = s.name,
                size = s.size,
                team = s.team,
                port = s.port,
            );
        }
        for (i, (name, replicas, log, surge, unavailable)) in ENVS.iter().enumerate() {
            env_head(&mut out, i, name, *surge, *unavailable);
            let _ = writeln!(out, "  service_defaults {{ replicas = {replicas} env {{ LOG_LEVEL = \"{log}\" }} }}\n}}");
        }
        out
    }
}
