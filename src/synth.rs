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
