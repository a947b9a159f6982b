//! A mistake and its fix for every diagnostic code, shown by `deployc
//! explain CODE` after the registry's explanation. The table sits beside
//! the registry (`codes.rs`) rather than in it so that a code added there
//! fails `tests/explain.rs` until it gets its pair here; that test compiles
//! every pair and holds that the wrong one produces the code and the fixed
//! one does not.

use crate::codes::Code;

/// How an example is compiled (and shown).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A snippet: compiled after [`PROJECT`] (a program has one project).
    Snippet,
    /// A whole program, shown and compiled as it is, as `main.dpl`.
    Program,
    /// `wrong` is a program whose `é` is saved as Latin-1 (not UTF-8).
    Latin1,
    /// A whole program built with `--target terraform` (a warning of the build, not of the check).
    TerraformBuild,
    /// A snippet built with `--target helm` (a warning of the build, not of the check).
    HelmBuild,
    /// A situation of the output tree, described as a shell session; the
    /// writer reports these, and `tests/writer.rs` produces each one.
    Writer,
    /// `wrong` and `fixed` are the sealed file [`SEALED_FILE`] of the
    /// program [`SEALED_PROGRAM`] (compiled as `main.dpl`).
    Sealed,
}

/// The program of [`Frame::Sealed`] examples: its one Secret, an image pull
/// secret, comes from a sealed file.
pub const SEALED_PROGRAM: &str = "project shop {\n  repository   = \"github.com/acme/shop\"\n  registry     = ghcr { owner = \"acme\" }\n  secret_store = sealed_secrets { dir = \"sealed\" }\n}\n\nservice api {\n  language     = go\n  port         = 8080\n  health       = http { path = \"/healthz\" }\n  pull_secrets = [\"registry\"]\n}\n\nenvironment dev {\n  promote = on_push(\"main\")\n}\n";
/// The file the [`Frame::Sealed`] examples are, relative to the program.
pub const SEALED_FILE: &str = "sealed/dev/registry.yaml";

/// One mistake and its fix.
#[derive(Clone, Copy, Debug)]
pub struct Example {
    pub frame: Frame,
    pub wrong: &'static str,
    pub fixed: &'static str,
}

/// The project block every snippet is compiled after.
pub const PROJECT: &str =
    "project shop {\n  repository = \"github.com/acme/shop\"\n  registry   = ghcr { owner = \"acme\" }\n}\n";

/// The example of `code`; every code of the registry has one.
pub fn example(code: Code) -> Option<&'static Example> {
    EXAMPLES.iter().find(|(c, _)| *c == code).map(|(_, e)| e)
}

/// The source a snippet or program is compiled from.
pub fn program(frame: Frame, text: &str) -> String {
    match frame {
        Frame::Snippet | Frame::HelmBuild => format!("{PROJECT}\n{text}"),
        _ => text.to_string(),
    }
}

/// The example as `deployc explain` prints it.
pub fn render(e: &Example) -> String {
    let indent = |t: &str| {
        t.trim_end()
            .lines()
            .map(|l| if l.is_empty() { "\n".to_string() } else { format!("    {l}\n") })
            .collect::<String>()
    };
    let note = match e.frame {
        Frame::Snippet => "(after a `project` block)\n\n",
        Frame::TerraformBuild => "(built with `deployc build FILE --target terraform`)\n\n",
        Frame::HelmBuild => "(after a `project` block, built with `deployc build FILE --target helm`)\n\n",
        Frame::Latin1 => "(the file saved as Latin-1 by an old editor)\n\n",
        Frame::Program | Frame::Writer => "",
        Frame::Sealed => {
            return format!(
                "The program\n\n{}\nWrong (its {SEALED_FILE})\n\n{}\nFixed\n\n{}",
                indent(SEALED_PROGRAM),
                indent(e.wrong),
                indent(e.fixed)
            )
        }
    };
    format!("Wrong {note}{}\nFixed\n\n{}", indent(e.wrong), indent(e.fixed))
}

use Frame::*;

macro_rules! ex {
    ($code:ident, $frame:ident, $wrong:literal, $fixed:literal) => {
        (Code::$code, Example { frame: $frame, wrong: $wrong, fixed: $fixed })
    };
}

static EXAMPLES: &[(Code, Example)] = &[
    ex!(E0001, Snippet, "service api {\n  language = python\n  port     = @8080\n}", "service api {\n  language = python\n  port     = 8080\n}"),
    ex!(E0002, Snippet, "service api {\n  language = python\n  port     = 8080\n  image    = \"acme/api\n}", "service api {\n  language = python\n  port     = 8080\n  image    = \"acme/api\"\n}"),
    ex!(E0003, Snippet, "service api {\n  language python\n  port = 8080\n}", "service api {\n  language = python\n  port     = 8080\n}"),
    ex!(E0004, Snippet, "service api {\n  language = python\n  port     = 8080\n", "service api {\n  language = python\n  port     = 8080\n}"),
    ex!(E0005, Snippet, "service api {\n  language = python\n  port     = 8080\n  memory   = 512MB\n}", "service api {\n  language = python\n  port     = 8080\n  memory   = 512Mi\n}"),
    ex!(E0006, Snippet, "service api {\n  language = python\n  port     = 8080\n  env { GREETING = \"hello ${}\" }\n}", "service api {\n  language = python\n  port     = 8080\n  env { GREETING = \"hello ${env.name}\" }\n}"),
    ex!(E0007, Snippet, "servce api {\n  language = python\n  port     = 8080\n}", "service api {\n  language = python\n  port     = 8080\n}"),
    ex!(E0008, Latin1, "project café {\n  repository = \"github.com/acme/cafe\"\n  registry   = ghcr { owner = \"acme\" }\n}", "project cafe {\n  repository = \"github.com/acme/cafe\"\n  registry   = ghcr { owner = \"acme\" }\n}"),
    ex!(E0009, Snippet, "service api {\n  language = python\n  port     = 8080\n  env { DATA_DIR = \"C:\\data\" }\n}", "service api {\n  language = python\n  port     = 8080\n  env { DATA_DIR = \"C:\\\\data\" }\n}"),
    ex!(E0101, Snippet, "import \"std/strategy\"\n\nservice api {\n  language = python\n  port     = 8080\n}", "import \"std/strategies\"\n\nservice api {\n  language = python\n  port     = 8080\n}"),
    ex!(E0102, Program, "// main.dpl\nimport \"./main.dpl\"\n\nproject shop {\n  repository = \"github.com/acme/shop\"\n  registry   = ghcr { owner = \"acme\" }\n}", "// main.dpl\nproject shop {\n  repository = \"github.com/acme/shop\"\n  registry   = ghcr { owner = \"acme\" }\n}"),
    ex!(E0201, Snippet, "service api {\n  language = python\n  port     = 8080\n  env { DATABASE_URL = db.url }\n}", "resource db = postgres { version = \"16\" }\n\nservice api {\n  language = python\n  port     = 8080\n  env { DATABASE_URL = db.url }\n}"),
    ex!(E0202, Snippet, "service api {\n  language = python\n  port     = 8080\n}\n\nservice api {\n  language = go\n  port     = 9090\n}", "service api {\n  language = python\n  port     = 8080\n}\n\nservice edge {\n  language = go\n  port     = 9090\n}"),
    ex!(E0203, Snippet, "service api {\n  language = python\n  port     = 8080\n  replcias = 2\n}", "service api {\n  language = python\n  port     = 8080\n  replicas = 2\n}"),
    ex!(E0204, Snippet, "service api {\n  language = python\n  port     = 8080\n}\n\nenvironment dev {\n  namespace = \"shop-dev\"\n}", "service api {\n  language = python\n  port     = 8080\n}\n\nenvironment dev {\n  namespace = \"shop-dev\"\n  promote   = on_push(\"main\")\n}"),
    ex!(E0205, Snippet, "resource db = postgres { version = \"16\" }\n\nservice api {\n  language = python\n  port     = 8080\n  env { DATABASE_URL = db.uri }\n}", "resource db = postgres { version = \"16\" }\n\nservice api {\n  language = python\n  port     = 8080\n  env { DATABASE_URL = db.url }\n}"),
    ex!(E0206, Snippet, "service Billing_API {\n  language = python\n  port     = 8080\n}", "service billing-api {\n  language = python\n  port     = 8080\n}"),
    ex!(E0207, Snippet, "service api {\n  language = python\n  port     = 8080\n  port     = 9090\n}", "service api {\n  language = python\n  port     = 9090\n}"),
    ex!(E0208, Snippet, "gate sca = grpye { fail_on = high }", "gate sca = grype { fail_on = high }"),
    ex!(E0209, Program, "service api {\n  language = python\n  port     = 8080\n}", "project shop {\n  repository = \"github.com/acme/shop\"\n  registry   = ghcr { owner = \"acme\" }\n}\n\nservice api {\n  language = python\n  port     = 8080\n}"),
    ex!(E0301, Snippet, "service api {\n  language = python\n  port     = \"8080\"\n}", "service api {\n  language = python\n  port     = 8080\n}"),
    ex!(E0302, Snippet, "service api {\n  language = python\n  port     = 8080\n  memory   = 512m\n}", "service api {\n  language = python\n  port     = 8080\n  memory   = 512Mi\n}"),
    ex!(E0303, Snippet, "service api {\n  language = python\n  port     = 70000\n}", "service api {\n  language = python\n  port     = 7000\n}"),
    ex!(E0304, Snippet, "service api {\n  language = python\n  port     = 8080\n  replicas = 10..2\n}", "service api {\n  language = python\n  port     = 8080\n  replicas = 2..10\n}"),
    ex!(E0305, Snippet, "service api {\n  language = python\n  port     = 8080\n  image    = \"acme/api\\n# injected\"\n}", "service api {\n  language = python\n  port     = 8080\n  image    = \"acme/api\"\n}"),
    ex!(E0306, Snippet, "pipeline {\n  workflows_dir = \"../.github/workflows\"\n}", "pipeline {\n  workflows_dir = \".github/workflows\"\n}"),
    ex!(E0307, Snippet, "resource events = kafka { topics = [\"orders v2\"] }\n\nservice api {\n  language = node\n  port     = 8080\n  env { KAFKA = events.url }\n}", "resource events = kafka { topics = [\"orders-v2\"] }\n\nservice api {\n  language = node\n  port     = 8080\n  env { KAFKA = events.url }\n}"),
    ex!(E0380, Program, "project shop {\n  repository   = \"github.com/acme/shop\"\n  registry     = ghcr { owner = \"acme\" }\n  secret_store = sealed_secrets { dir = \"sealed\" }\n}\n\nservice api {\n  language = go\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  env { API_TOKEN = secret(\"api-token\") }\n}\n\nenvironment dev {\n  promote = on_push(\"main\")\n}", "project shop {\n  repository   = \"github.com/acme/shop\"\n  registry     = ghcr { owner = \"acme\" }\n  secret_store = sealed_secrets { controller_namespace = \"kube-system\" }\n}\n\nservice api {\n  language = go\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  env { API_TOKEN = secret(\"api-token\") }\n}\n\nenvironment dev {\n  promote = on_push(\"main\")\n}"),
    ex!(E0381, Sealed, "apiVersion: bitnami.com/v1alpha1\nkind: Secret\nmetadata:\n  name: registry\n  namespace: shop-dev\nspec:\n  encryptedData:\n    \".dockerconfigjson\": AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq\n  template:\n    type: kubernetes.io/dockerconfigjson\n", "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: registry\n  namespace: shop-dev\nspec:\n  encryptedData:\n    \".dockerconfigjson\": AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq\n  template:\n    type: kubernetes.io/dockerconfigjson\n"),
    ex!(E0382, Sealed, "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: registry\n  namespace: shop-staging\nspec:\n  encryptedData:\n    \".dockerconfigjson\": AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq\n  template:\n    type: kubernetes.io/dockerconfigjson\n", "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: registry\n  namespace: shop-dev\nspec:\n  encryptedData:\n    \".dockerconfigjson\": AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq\n  template:\n    type: kubernetes.io/dockerconfigjson\n"),
    ex!(E0383, Sealed, "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: registry\n  namespace: shop-dev\nspec:\n  encryptedData:\n    config: AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq\n  template:\n    type: kubernetes.io/dockerconfigjson\n", "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: registry\n  namespace: shop-dev\nspec:\n  encryptedData:\n    \".dockerconfigjson\": AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq\n  template:\n    type: kubernetes.io/dockerconfigjson\n"),
    ex!(E0384, Sealed, "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: registry\n  namespace: shop-dev\nspec:\n  encryptedData:\n    \".dockerconfigjson\": AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq\n  template:\n    type: Opaque\n", "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: registry\n  namespace: shop-dev\nspec:\n  encryptedData:\n    \".dockerconfigjson\": AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq\n  template:\n    type: kubernetes.io/dockerconfigjson\n"),
    ex!(E0401, Snippet, "environment dev {\n  promote  = on_push(\"main\")\n  strategy = canary { steps = [50%, 20%, 100%] }\n}", "environment dev {\n  promote  = on_push(\"main\")\n  strategy = canary { steps = [20%, 50%, 100%] }\n}"),
    ex!(E0402, Snippet, "environment dev {\n  promote  = on_push(\"main\")\n  strategy = canary { steps = [10%, 150%] }\n}", "environment dev {\n  promote  = on_push(\"main\")\n  strategy = canary { steps = [10%, 100%] }\n}"),
    ex!(E0403, Snippet, "service api {\n  language = python\n  port     = 8080\n}\n\nenvironment dev {\n  promote  = on_push(\"main\")\n  strategy = blue_green { auto_promote = false }\n}", "service api {\n  language = python\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n}\n\nenvironment dev {\n  promote  = on_push(\"main\")\n  strategy = blue_green { auto_promote = false }\n}"),
    ex!(E0404, Snippet, "service api {\n  language = python\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n}\n\nenvironment dev {\n  promote  = on_push(\"main\")\n  strategy = canary {\n    steps = [20%, 100%]\n    analysis { success_rate = 99% }\n  }\n}", "service api {\n  language = python\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n}\n\nobservability { metrics = prometheus }\n\nenvironment dev {\n  promote  = on_push(\"main\")\n  strategy = canary {\n    steps = [20%, 100%]\n    analysis { success_rate = 99% }\n  }\n}"),
    ex!(E0405, Snippet, "environment dev {\n  promote  = on_push(\"main\")\n  strategy = canary { steps = [] }\n}", "environment dev {\n  promote  = on_push(\"main\")\n  strategy = canary { steps = [25%, 100%] }\n}"),
    ex!(W0018, Program, "project shop {\n  repository = \"github.com/acme/shop\"\n  registry   = ghcr { owner = \"acme\" }\n  cloud      = aws { region = \"us-east-1\" }\n}\n\nresource jobs = queue {}\n\nservice api {\n  language = go\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  env { JOBS_QUEUE = jobs.url }\n}\n\nenvironment dev {\n  promote = on_push(\"main\")\n}", "project shop {\n  repository = \"github.com/acme/shop\"\n  registry   = ghcr { owner = \"acme\" }\n  cloud      = aws { region = \"us-east-1\" account = \"123456789012\" }\n}\n\nresource jobs = queue {}\n\nservice api {\n  language = go\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  env { JOBS_QUEUE = jobs.url }\n}\n\nenvironment dev {\n  promote = on_push(\"main\")\n}"),
    ex!(E0421, Program, "project payments-platform-reconciliation {\n  repository = \"github.com/acme/shop\"\n  registry   = ghcr { owner = \"acme\" }\n  cloud      = aws { region = \"us-east-1\" account = \"123456789012\" }\n}\n\nresource jobs = queue {}\n\nservice settlement-batcher {\n  language = go\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  env { JOBS_QUEUE = jobs.url }\n}\n\nenvironment production-eu {\n  promote = on_push(\"main\")\n}", "project payments {\n  repository = \"github.com/acme/shop\"\n  registry   = ghcr { owner = \"acme\" }\n  cloud      = aws { region = \"us-east-1\" account = \"123456789012\" }\n}\n\nresource jobs = queue {}\n\nservice settlement-batcher {\n  language = go\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  env { JOBS_QUEUE = jobs.url }\n}\n\nenvironment production-eu {\n  promote = on_push(\"main\")\n}"),
    ex!(E0501, Snippet, "environment dev {\n  promote = manual(from = qa)\n}\n\nenvironment qa {\n  promote = manual(from = dev)\n}", "environment dev {\n  promote = on_push(\"main\")\n}\n\nenvironment qa {\n  promote = manual(from = dev)\n}"),
    ex!(E0502, Snippet, "environment dev {\n  promote = on_push(\"main\")\n}\n\nenvironment prod {\n  promote = manual\n}", "environment dev {\n  promote = on_push(\"main\")\n}\n\nenvironment prod {\n  promote = manual(from = dev)\n}"),
    ex!(E0601, Snippet, "service web {\n  language = typescript\n  port     = 3000\n}\n\ngate sast = bandit\n\nenvironment dev {\n  promote  = on_push(\"main\")\n  requires = [sast]\n}", "service web {\n  language = typescript\n  port     = 3000\n}\n\ngate sast = semgrep\n\nenvironment dev {\n  promote  = on_push(\"main\")\n  requires = [sast]\n}"),
    ex!(E0602, Snippet, "toolchain api-node {\n  family = node\n  test   = [\"npm test\"]\n}\n\nservice api {\n  language = api-node\n  port     = 8080\n  expose   = ingress { host = \"api.shop.dev\" }\n}\n\nenvironment staging {\n  promote = on_push(\"main\")\n  after   = [performance_tests]\n}", "toolchain api-node {\n  family      = node\n  test        = [\"npm test\"]\n  performance = [\"npx k6 run perf/load.js\"]\n}\n\nservice api {\n  language = api-node\n  port     = 8080\n  expose   = ingress { host = \"api.shop.dev\" }\n}\n\nenvironment staging {\n  promote = on_push(\"main\")\n  after   = [performance_tests]\n}"),
    ex!(E0701, Snippet, "service api {\n  language = python\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  env { DB_PASSWORD = \"hunter2\" }\n}\n\nenvironment prod {\n  promote    = on_tag(\"v*\")\n  production = true\n}", "service api {\n  language = python\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  env { DB_PASSWORD = secret(\"db-password\") }\n}\n\nenvironment prod {\n  promote    = on_tag(\"v*\")\n  production = true\n}"),
    ex!(E0801, Snippet, "service orders {\n  language   = python\n  port       = 8080\n  depends_on = [billing]\n}\n\nservice billing {\n  language   = python\n  port       = 8081\n  depends_on = [orders]\n}", "service orders {\n  language   = python\n  port       = 8080\n  depends_on = [billing]\n}\n\nservice billing {\n  language = python\n  port     = 8081\n}"),
    ex!(E0901, Writer, "$ deployc build envs.dpl -o /srv/out        # a folder owned by root\nerror[E0901]: permission denied writing the output", "$ deployc build envs.dpl -o out             # a folder you can write"),
    ex!(E0902, Writer, "$ deployc build envs.dpl -o /mnt/full/out   # a full filesystem\nerror[E0902]: no space left writing the output", "$ df -h /mnt/full                           # free space, then build again\n$ deployc build envs.dpl -o /mnt/full/out"),
    ex!(E0903, Writer, "$ ln -s /elsewhere out/k8s/prod\n$ deployc build envs.dpl -o out\nerror[E0903]: symlink inside the output tree", "$ rm out/k8s/prod                           # let deployc write a real folder\n$ deployc build envs.dpl -o out"),
    ex!(E0904, Writer, "$ touch out/k8s                             # a file where a folder belongs\n$ deployc build envs.dpl -o out\nerror[E0904]: output path conflict", "$ rm out/k8s\n$ deployc build envs.dpl -o out"),
    ex!(E0905, Writer, "pipeline { workflows_dir = \"../workflows\" }   # rejected by the checker first (E0306)", "pipeline { workflows_dir = \"workflows\" }"),
    ex!(E0906, Writer, "$ deployc build envs.dpl -o /mnt/nfs/out    # the network filesystem went away\nerror[E0906]: cannot write the output", "$ deployc build envs.dpl -o /mnt/nfs/out    # once the filesystem is back: the journal completes the build"),
    ex!(W0001, Snippet, "resource cache = redis\n\nservice api {\n  language = python\n  port     = 8080\n}", "resource cache = redis\n\nservice api {\n  language = python\n  port     = 8080\n  env { REDIS_URL = cache.url }\n}"),
    ex!(W0002, Snippet, "environment prod {\n  promote    = on_push(\"main\")\n  production = true\n}", "environment prod {\n  promote    = on_tag(\"v*\")\n  production = true\n}"),
    ex!(W0003, Snippet, "service api {\n  language = python\n  port     = 8080\n  security { allow_privilege_escalation = true }\n}", "service api {\n  language = python\n  port     = 8080\n}"),
    ex!(W0004, Snippet, "environment prod {\n  promote    = on_tag(\"v*\")\n  production = true\n}\n\npipeline { tags = [latest] }", "environment prod {\n  promote    = on_tag(\"v*\")\n  production = true\n}\n\npipeline { tags = [branch_sha] }"),
    ex!(W0005, HelmBuild, "service api {\n  language = go\n  port     = 8080\n}", "service api {\n  language = go\n  port     = 8080\n}\n\nenvironment dev {\n  promote = on_push(\"main\")\n}"),
    ex!(E0220, Snippet, "preset web {\n  extends  = base\n  language = go\n}\n\npreset base {\n  extends = web\n  port    = 8080\n}\n\nservice api {\n  extends = web\n}", "preset base {\n  port = 8080\n}\n\npreset web {\n  extends  = base\n  language = go\n}\n\nservice api {\n  extends = web\n}"),
    ex!(E0221, Snippet, "preset web {\n  language = go\n  image    = \"shop/web\"\n}\n\nservice api {\n  extends = web\n  port    = 8080\n}", "preset web {\n  language = go\n}\n\nservice api {\n  extends = web\n  image   = \"shop/api\"\n  port    = 8080\n}"),
    ex!(E0230, Snippet, "service api {\n  language = go\n  port     = 8080\n}\n\nenvironment dev {\n  promote = on_push(\"main\")\n  patches = [{ target = \"Deployment/web\" file = \"web.yaml\" }]\n}", "service api {\n  language = go\n  port     = 8080\n}\n\nenvironment dev {\n  promote = on_push(\"main\")\n  patches = [{ target = \"Deployment/api\" file = \"api.yaml\" }]\n}"),
    ex!(E0310, Snippet, "service demo {\n  image = \"argoproj/rollouts-demo:blue:main\"\n  port  = 8080\n}", "service demo {\n  image = \"argoproj/rollouts-demo:blue\"\n  port  = 8080\n}"),
    ex!(E0311, Snippet, "service demo {\n  image    = \"argoproj/rollouts-demo:blue\"\n  language = node\n  port     = 8080\n}", "service demo {\n  image = \"argoproj/rollouts-demo:blue\"\n  port  = 8080\n}"),
    ex!(E0330, Snippet, "service api {\n  language = node\n  port     = 8080\n}\n\nenvironment dev {\n  promote = on_push(\"main branch\")\n}", "service api {\n  language = node\n  port     = 8080\n}\n\nenvironment dev {\n  promote = on_push(\"main\")\n}"),
    ex!(E0331, Program, "project shop {\n  repository = \"github.com/acme/shop\"\n  registry   = ghcr { owner = \"acme\" }\n  domain     = \"Shop Example\"\n}", "project shop {\n  repository = \"github.com/acme/shop\"\n  registry   = ghcr { owner = \"acme\" }\n  domain     = \"shop.example.com\"\n}"),
    ex!(E0332, Snippet, "service api {\n  language = node\n  port     = 8080\n  health   = http { path = \"healthz\" }\n}", "service api {\n  language = node\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n}"),
    ex!(E0333, Snippet, "service api {\n  language = node\n  port     = 8080\n  local { sync = \"app\" }\n}", "service api {\n  language = node\n  port     = 8080\n  local { sync = \"/app\" }\n}"),
    ex!(E0334, Program, "project shop {\n  repository = \"github.com/acme/shop\"\n  registry   = ghcr { owner = \"acme\" }\n  policy     = kyverno { registries = [\"docker.io/*\"] }\n}", "project shop {\n  repository = \"github.com/acme/shop\"\n  registry   = ghcr { owner = \"acme\" }\n  policy     = kyverno { registries = [\"docker.io/library/\"] }\n}"),
    ex!(E0340, Snippet, "resource db = postgres {\n  placement = in_cluster\n  backup   { schedule = every_6h }\n  recovery { rpo = 1h }\n}\n\nservice api {\n  language = node\n  port     = 8080\n  env { DATABASE_URL = db.url }\n}\n\nenvironment dev {\n  promote = on_push(\"main\")\n}", "resource db = postgres {\n  placement = in_cluster\n  backup   { schedule = hourly }\n  recovery { rpo = 1h }\n}\n\nservice api {\n  language = node\n  port     = 8080\n  env { DATABASE_URL = db.url }\n}\n\nenvironment dev {\n  promote = on_push(\"main\")\n}"),
    ex!(E0370, Snippet, "service api {\n  language = node\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  labels   { \"Example.com/team\" = \"check out\" }\n}", "service api {\n  language = node\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  labels   { \"example.com/team\" = \"checkout\" }\n}"),
    ex!(E0371, Snippet, "service api {\n  language = node\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  annotations { \"prometheus io/scrape\" = \"true\" }\n}", "service api {\n  language = node\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  annotations { \"prometheus.io/scrape\" = \"true\" }\n}"),
    ex!(E0372, Snippet, "service api {\n  language = node\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  tolerations = [\"dedicated=gpu:NoSchedul\"]\n}", "service api {\n  language = node\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  tolerations = [\"dedicated=gpu:NoSchedule\"]\n}"),
    ex!(E0373, Snippet, "service api {\n  language = node\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  cpu      = 5m..\n}", "service api {\n  language = node\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  cpu      = 5m..200m\n}"),
    ex!(E0374, Snippet, "service api {\n  language = node\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  files { \"config.yaml\" = \"port: 8080\\n\" }\n}", "service api {\n  language = node\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  files { \"/etc/app/config.yaml\" = \"port: 8080\\n\" }\n}"),
    ex!(E0375, Snippet, "resource db = postgres {\n  placement     = in_cluster\n  storage_class = \"Fast_SSD\"\n}\n\nservice api {\n  language = node\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  env { DATABASE_URL = db.url }\n}", "resource db = postgres {\n  placement     = in_cluster\n  storage_class = \"io2-encrypted\"\n}\n\nservice api {\n  language = node\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  env { DATABASE_URL = db.url }\n}"),
    ex!(E0350, Snippet, "service api {\n  language = node\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  vpa      = initial\n}\n\nenvironment prod {\n  promote    = on_tag(\"v*\")\n  production = true\n  services { api { replicas = 2..6 } }\n}", "service api {\n  language = node\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  vpa      = recommend\n}\n\nenvironment prod {\n  promote    = on_tag(\"v*\")\n  production = true\n  services { api { replicas = 2..6 } }\n}"),
    ex!(E0360, Snippet, "service nightly {\n  kind     = cron\n  language = python\n}", "service nightly {\n  kind     = cron\n  language = python\n  schedule = \"30 2 * * *\"\n}"),
    ex!(E0361, Snippet, "service consumer {\n  kind     = worker\n  language = python\n  port     = 8080\n}", "service consumer {\n  kind     = worker\n  language = python\n}"),
    ex!(E0362, Snippet, "service consumer {\n  kind     = worker\n  language = python\n  health   = http { path = \"/healthz\" }\n}", "service consumer {\n  kind     = worker\n  language = python\n  health   = http { path = \"/healthz\" port = 9090 }\n}"),
    ex!(E0363, Snippet, "service api {\n  language = python\n  port     = 8080\n  schedule = \"0 3 * * *\"\n}", "service report {\n  kind     = cron\n  language = python\n  schedule = \"0 3 * * *\"\n}"),
    ex!(E0364, Snippet, "service consumer {\n  kind     = worker\n  language = python\n  strategy = canary { steps = [20%, 100%] }\n}", "service consumer {\n  kind     = worker\n  language = python\n  strategy = rolling\n}"),
    ex!(E0365, Snippet, "service frontend {\n  language = node\n  port     = 8080\n  services = [{ name = \"frontend\" type = load_balancer }]\n}", "service frontend {\n  language = node\n  port     = 8080\n  services = [{ name = \"frontend-external\" type = load_balancer }]\n}"),
    ex!(E0366, Snippet, "service consumer {\n  kind     = worker\n  language = python\n}\n\nservice api {\n  language = node\n  port     = 8080\n  env { CONSUMER_URL = consumer.url }\n}", "service consumer {\n  kind     = worker\n  language = python\n}\n\nservice api {\n  language = node\n  port     = 8080\n}"),
    ex!(E0410, Snippet, "environment staging {\n  promote = on_push(\"main\")\n}\n\nenvironment dr {\n  promote = manual(from = staging)\n  cloud   = gcp { project = \"acme\" region = \"us-central1\" }\n}", "environment staging {\n  promote = on_push(\"main\")\n}\n\nenvironment dr {\n  promote = manual(from = staging)\n  cluster = \"dr\"\n  cloud   = gcp { project = \"acme\" region = \"us-central1\" }\n}"),
    ex!(E0411, Snippet, "resource db = mongodb { placement = managed }\n\nservice api {\n  language = node\n  port     = 8080\n  env { MONGODB_URL = db.url }\n}\n\nenvironment dr {\n  promote = on_push(\"main\")\n  cluster = \"dr\"\n  cloud   = gcp { project = \"acme\" region = \"us-central1\" }\n}", "resource db = mongodb { placement = managed }\n\nservice api {\n  language = node\n  port     = 8080\n  env { MONGODB_URL = db.url }\n}\n\nenvironment dr {\n  promote = on_push(\"main\")\n  cluster = \"dr\"\n  cloud   = gcp { project = \"acme\" region = \"us-central1\" }\n  resources { db { placement = in_cluster } }\n}"),
    ex!(E0412, Snippet, "environment staging {\n  promote = on_push(\"main\")\n  cluster = \"main\"\n  cloud   = gcp { project = \"acme\" region = \"us-central1\" }\n}\n\nenvironment dr {\n  promote = manual(from = staging)\n  cluster = \"dr\"\n  cloud   = gcp { project = \"acme\" region = \"europe-west1\" }\n}", "environment staging {\n  promote = on_push(\"main\")\n  cluster = \"main\"\n  cloud   = gcp { project = \"acme\" region = \"us-central1\" }\n}\n\nenvironment dr {\n  promote = manual(from = staging)\n  cluster = \"dr\"\n  cloud   = gcp { project = \"acme\" region = \"us-central1\" }\n}"),
    ex!(W0015, Program, "project shop {\n  repository = \"github.com/acme/shop\"\n  registry   = ecr { region = \"us-east-1\" account = \"123456789012\" }\n}\n\nservice api {\n  language = node\n  port     = 8080\n}\n\nenvironment dr {\n  promote = on_push(\"main\")\n  cluster = \"dr\"\n  cloud   = azure { location = \"eastus2\" }\n}", "project shop {\n  repository = \"github.com/acme/shop\"\n  registry   = ecr { region = \"us-east-1\" account = \"123456789012\" }\n}\n\nservice api {\n  language = node\n  port     = 8080\n}\n\nenvironment dr {\n  promote = on_push(\"main\")\n  cluster = \"dr\"\n  cloud   = gcp { project = \"acme\" region = \"us-central1\" }\n}"),
    ex!(E0385, Snippet, "observability {\n  logs = elk { endpoint = \"elasticsearch:9200\" }\n}", "observability {\n  logs = elk { endpoint = \"https://elasticsearch.logging.svc.cluster.local:9200\" }\n}"),
    ex!(E0386, Snippet, "observability {\n  logs = cloudwatch { group = \"shop logs\" }\n}", "observability {\n  logs = cloudwatch { group = \"shop\" }\n}"),
    ex!(E0390, Program, "project shop {\n  repository = \"github.com/acme/shop\"\n  registry   = ghcr { owner = \"acme\" }\n  mesh       = istio\n}\n\nservice api {\n  language = node\n  port     = 15020\n}", "project shop {\n  repository = \"github.com/acme/shop\"\n  registry   = ghcr { owner = \"acme\" }\n  mesh       = istio\n}\n\nservice api {\n  language = node\n  port     = 8080\n}"),
    ex!(W0006, Snippet, "integration jira = jira {\n  url     = \"https://acme.atlassian.net\"\n  project = \"OPS\"\n  token   = secret(\"jira-token\")\n}\n\nobservability {\n  metrics = prometheus\n  alerts { crash_loop = true route_to = [jira] }\n}", "integration chat = slack {\n  channel = \"#alerts\"\n  webhook = secret(\"slack-webhook\")\n}\n\nobservability {\n  metrics = prometheus\n  alerts { crash_loop = true route_to = [chat] }\n}"),
    ex!(W0007, HelmBuild, "service api {\n  language = go\n  port     = 8080\n}\n\nenvironment dev {\n  promote = on_push(\"main\")\n  patches = [{ target = \"Deployment/api\" file = \"api.yaml\" }]\n}", "service api {\n  language = go\n  port     = 8080\n  env { GOMAXPROCS = \"2\" }\n}\n\nenvironment dev {\n  promote = on_push(\"main\")\n}"),
    ex!(W0008, TerraformBuild, "project shop {\n  repository = \"github.com/acme/shop\"\n  registry   = ghcr { owner = \"acme\" }\n  cloud      = gcp { project = \"acme\" region = \"europe-west1\" }\n}\n\nresource jobs = queue {}\n\nservice api {\n  language = go\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  env { QUEUE_URL = jobs.url }\n}\n\nenvironment dev {\n  promote = on_push(\"main\")\n}", "project shop {\n  repository = \"github.com/acme/shop\"\n  registry   = ghcr { owner = \"acme\" }\n  cloud      = gcp { project = \"acme\" region = \"europe-west1\" }\n}\n\nservice api {\n  language = go\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n}\n\nenvironment dev {\n  promote = on_push(\"main\")\n}"),
    ex!(W0014, TerraformBuild, "project shop {\n  repository = \"github.com/acme/shop\"\n  registry   = ghcr { owner = \"acme\" }\n  cloud      = aws { region = \"eu-west-1\" }\n}\n\nresource db = postgres {\n  placement = in_cluster\n  backup { schedule = daily retain = 7d }\n}\n\nservice api {\n  language = go\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  env { DATABASE_URL = db.url }\n}\n\nenvironment dev {\n  promote = on_push(\"main\")\n}", "project shop {\n  repository = \"github.com/acme/shop\"\n  registry   = ghcr { owner = \"acme\" }\n  cloud      = aws { region = \"eu-west-1\" account = \"123456789012\" }\n}\n\nresource db = postgres {\n  placement = in_cluster\n  backup { schedule = daily retain = 7d }\n}\n\nservice api {\n  language = go\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n  env { DATABASE_URL = db.url }\n}\n\nenvironment dev {\n  promote = on_push(\"main\")\n}"),
    ex!(W0010, Snippet, "service api {\n  language = node\n  port     = 8080\n}\n\nenvironment prod {\n  promote    = on_tag(\"v*\")\n  production = true\n}", "service api {\n  language = node\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n}\n\nenvironment prod {\n  promote    = on_tag(\"v*\")\n  production = true\n}"),
    ex!(W0013, Snippet, "toolchain api-py {\n  family = python\n  smoke  = [\"pytest tests/smoke\"]\n}\n\nservice api {\n  language = api-py\n  port     = 8080\n}\n\nenvironment staging {\n  promote = on_push(\"main\")\n  after   = [smoke_tests]\n}", "toolchain api-py {\n  family = python\n  smoke  = [\"pytest tests/smoke\"]\n}\n\nservice api {\n  language = api-py\n  port     = 8080\n  expose   = ingress { host = \"api.shop.dev\" }\n}\n\nenvironment staging {\n  promote = on_push(\"main\")\n  after   = [smoke_tests]\n}"),
];
