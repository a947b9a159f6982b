//! ArgoCD's push webhook as ArgoCD and the repository host read it: the
//! secret ArgoCD verifies deliveries with is merged into `argocd-secret` in
//! ArgoCD's namespace on the hub, under the key of the sender, from a store
//! entry Terraform creates and the hub's External Secrets identity reads,
//! synced by an add-on Application; the registration command in the docs
//! posts push events to `/api/webhook` with the same secret, and a
//! repository name cannot break out of its shell word.

mod common;
use deployc::emit::Target;
use serde_json::Value;

struct Out {
    files: Vec<(String, String)>,
}

impl Out {
    fn file(&self, path: &str) -> &str {
        &self.files.iter().find(|(p, _)| p == path).unwrap_or_else(|| panic!("{path} written")).1
    }
    fn yaml(&self, path: &str) -> Value {
        serde_yaml_ng::from_str(self.file(path)).expect("YAML")
    }
}

fn build(text: &str) -> Out {
    let c = deployc::compile("p.dpl", text, &common::Disk);
    let errs: Vec<_> = c.diagnostics.items.iter().map(|d| d.message.clone()).collect();
    let (model, graph) = c.output.unwrap_or_else(|| panic!("compiles: {errs:?}"));
    let options = Default::default();
    let plan = deployc::plan::Plan::new(&model, &graph, &options);
    let arts = deployc::emit::emit(&plan, &[Target::K8s, Target::Argocd, Target::Terraform, Target::Docs]);
    Out { files: arts.into_iter().map(|a| (a.path.clone(), a.contents.clone())).collect() }
}

fn program(repository: &str, store: &str) -> String {
    format!(
        "project shop {{\n  repository = \"{repository}\"\n  registry = ecr {{ region = \"us-east-1\" account = \"123456789012\" }}\n  \
         cloud = aws {{ region = \"us-east-1\" }}\n  gitops = argocd {{ namespace = \"gitops\" webhook = secret(\"argocd-webhook\") }}\n  {store}\n}}\n\
         service web {{\n  language = go\n  port = 8080\n  health = http {{ path = \"/healthz\" }}\n}}\n\
         environment dev {{ promote = on_push(\"main\") }}\nenvironment prod {{ promote = manual(from = dev) }}\n"
    )
}

#[test]
fn the_store_entry_is_merged_into_argocd_secret_on_the_hub() {
    let out = build(&program("github.com/acme/shop", "secret_store = aws_secrets_manager { region = \"us-east-1\" }"));
    let es = out.yaml("k8s/_addons/main/externalsecret-argocd-webhook.yaml");
    assert_eq!(es["metadata"]["namespace"], "gitops", "ArgoCD's namespace");
    assert_eq!(es["spec"]["target"]["name"], "argocd-secret");
    assert_eq!(es["spec"]["target"]["creationPolicy"], "Merge", "ArgoCD's install owns argocd-secret");
    let key = es["spec"]["dataFrom"][0]["extract"]["key"].as_str().expect("store key");
    assert_eq!(key, "shop/prod/argocd-webhook", "the hub's secrets environment (production)");
    // The store it reads admits ArgoCD's namespace.
    let store = out.yaml("k8s/_addons/main/clustersecretstore-shop-addons.yaml");
    let admitted = &store["spec"]["conditions"][0]["namespaces"];
    assert!(admitted.as_array().expect("namespaces").iter().any(|n| n == "gitops"), "{admitted}");
    // Terraform creates that entry, where the production identity reads.
    let tf: Value = serde_json::from_str(out.file("terraform/prod/secrets.tf.json")).expect("JSON");
    let name = tf.pointer("/resource/aws_secretsmanager_secret/argocd_webhook/name").expect("entry created");
    assert_eq!(name, "${local.store_prefix}/argocd-webhook");
    // Its description names the Secret the key lands in, not one of its own.
    let description = tf.pointer("/resource/aws_secretsmanager_secret/argocd_webhook/description");
    assert_eq!(
        description,
        Some(&Value::from("argocd-webhook: merged by External Secrets into the Secret argocd-secret"))
    );
    // An add-on Application syncs the folder.
    let app = out.yaml("argocd/addons/application-shop-addon-secrets.yaml");
    assert!(app["spec"]["source"]["path"].as_str().expect("path").ends_with("k8s/_addons/main"));
    assert!(out.files.iter().any(|(p, _)| p == "argocd/addons/application-shop-external-secrets.yaml"));
    // The docs say which key ArgoCD reads.
    let docs = out.file("docs/ARCHITECTURE.md");
    assert!(docs.contains("key `webhook.github.secret` of Secret `argocd-secret` in namespace `gitops`"));
}

/// The registration command of the docs page, split as a shell would.
fn register_words(docs: &str, tool: &str) -> Vec<String> {
    let line = docs.lines().map(str::trim).find(|l| l.starts_with(tool)).expect("registration command");
    shlex::split(line).expect("one well-formed shell command")
}

#[test]
fn github_registration_posts_pushes_to_the_webhook_endpoint() {
    let out = build(&program("github.com/acme/shop", ""));
    let w = register_words(out.file("docs/ARCHITECTURE.md"), "gh api");
    assert_eq!(w[2], "repos/acme/shop/hooks");
    assert!(w.contains(&"events[]=push".to_string()));
    assert!(w.contains(&"config[url]=https://$ARGOCD_SERVER/api/webhook".to_string()), "{w:?}");
    assert!(w.contains(&"config[secret]=$WEBHOOK_SECRET".to_string()));
    // No external store: nothing is written into ArgoCD's namespace, and the
    // docs tell the team to add the key.
    assert!(!out.files.iter().any(|(p, _)| p.contains("externalsecret-argocd-webhook")));
    assert!(out.file("docs/ARCHITECTURE.md").contains("kubectl -n gitops patch secret argocd-secret"));
}

#[test]
fn gitlab_uses_its_own_key_and_project_path() {
    let out = build(&program("gitlab.com/acme/shop", "secret_store = aws_secrets_manager { region = \"us-east-1\" }"));
    let w = register_words(out.file("docs/ARCHITECTURE.md"), "glab api");
    assert_eq!(w[2], "projects/acme%2Fshop/hooks");
    assert!(out.file("docs/ARCHITECTURE.md").contains("`webhook.gitlab.secret`"));
}

/// A repository name that would leave its shell word (or its URL, or the
/// trust policies' subjects) never reaches an output: the checker refuses
/// it (E0303). The words themselves are still quoted: a name in `-._`
/// stays one word.
#[test]
fn a_repository_name_stays_one_shell_word() {
    let evil = "github.com/acme/x'; touch /tmp/pwned; echo '$(id)";
    let c = deployc::compile("p.dpl", &program(evil, ""), &common::Disk);
    assert!(c.output.is_none(), "nothing is built from it");
    assert!(
        c.diagnostics
            .items
            .iter()
            .any(|d| d.code.as_str() == "E0303" && d.message.contains("not a repository address")),
        "{}",
        common::render_all(&c)
    );
    let out = build(&program("github.com/acme/x-._y", ""));
    let w = register_words(out.file("docs/ARCHITECTURE.md"), "gh api");
    assert_eq!(w[2], "repos/acme/x-._y/hooks");
}

#[test]
fn an_unknown_host_is_refused() {
    let text = program("git.acme.dev/platform/shop", "");
    let c = deployc::compile("p.dpl", &text, &common::Disk);
    assert!(c.diagnostics.items.iter().any(|d| d.code.as_str() == "E0449"), "E0449 expected");
}
