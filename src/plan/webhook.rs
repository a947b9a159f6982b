//! ArgoCD's push webhook (`gitops = argocd { webhook = secret("...") }`),
//! decided once: the repository host posts every push to
//! `https://<argocd>/api/webhook`, and ArgoCD refreshes the Applications
//! that track the pushed branch at once instead of on its 3-minute poll.
//!
//! ArgoCD verifies each delivery with a shared secret it reads from a key
//! of its own `argocd-secret`; the key depends on the sender. The secret's
//! value lives in the program's secret store and is merged into that
//! Secret on the hub (plan/addon_secrets.rs), and the docs page gives the
//! one-time command that registers the webhook on the repository with the
//! same value (a repository setting no generated file can carry).

use super::addon_secrets::Need;
use crate::model::{Model, RepoHost};

/// The Secret ArgoCD's install creates and reads its webhook secrets from.
pub const ARGOCD_SECRET: &str = "argocd-secret";

/// Per host: the key of `argocd-secret` ArgoCD verifies its deliveries
/// with, the event it listens for, and how the docs register the webhook.
pub struct HostFacts {
    pub host: RepoHost,
    pub key: &'static str,
    pub event: &'static str,
    pub register: &'static str,
}

/// `{repo}` is the repository's path (`owner/name`) as one shell word,
/// `{url}` the webhook's address; `$WEBHOOK_SECRET` holds the store's value
/// and `$ARGOCD_SERVER` ArgoCD's address in the shell.
pub const HOSTS: &[HostFacts] = &[
    HostFacts {
        host: RepoHost::GitHub,
        key: "webhook.github.secret",
        event: "push",
        register: "gh api {repo} --method POST -f name=web -F active=true -f 'events[]=push' -f \"config[url]={url}\" -f 'config[content_type]=json' -f 'config[insecure_ssl]=0' -f \"config[secret]=$WEBHOOK_SECRET\"",
    },
    HostFacts {
        host: RepoHost::GitLab,
        key: "webhook.gitlab.secret",
        event: "push events",
        register: "glab api {repo} --method POST -f \"url={url}\" -f push_events=true -f enable_ssl_verification=true -f \"token=$WEBHOOK_SECRET\"",
    },
];

/// The webhook the program declares, with its host's facts.
pub struct Webhook {
    /// The program's secret.
    pub secret: String,
    pub facts: &'static HostFacts,
    /// The repository's path on its host (`owner/name`).
    pub repo: String,
}

pub fn of(model: &Model) -> Option<Webhook> {
    let secret = model.project.gitops.webhook.clone()?;
    let host = model.repository_host()?;
    let facts = HOSTS.iter().find(|f| f.host == host)?;
    let r = model.project.repository.trim_start_matches("https://");
    let repo = r.split_once('/').map(|(_, p)| p.trim_end_matches(".git").to_string())?;
    Some(Webhook { secret, facts, repo })
}

/// The Secret ArgoCD needs on the hub: the webhook secret's key merged into
/// `argocd-secret` in ArgoCD's namespace.
pub fn addon_secret(model: &Model) -> Option<Need> {
    let w = of(model)?;
    Some(Need {
        name: w.secret,
        namespace: model.project.gitops.namespace.clone(),
        key: w.facts.key.into(),
        reader: "argocd-server".into(),
        component: "gitops",
        merge_into: Some(ARGOCD_SECRET.into()),
        hub_only: true,
    })
}

/// The one-time command registering the webhook, for the docs page. The
/// ArgoCD address is the one the deploy jobs reach (`$ARGOCD_SERVER`). The
/// repository comes from the program: one quoted shell word, whatever it holds.
pub fn register_command(w: &Webhook) -> String {
    let endpoint = match w.facts.host {
        RepoHost::GitHub => format!("repos/{}/hooks", w.repo),
        RepoHost::GitLab => format!("projects/{}/hooks", w.repo.replace('/', "%2F")),
    };
    let word = shlex::try_quote(&endpoint).map(|q| q.into_owned()).unwrap_or_else(|_| "''".into());
    w.facts.register.replace("{repo}", &word).replace("{url}", "https://$ARGOCD_SERVER/api/webhook")
}
