//! The cluster add-ons the output relies on: controllers (each an upstream
//! Helm chart pinned to a version) and cluster-wide objects (the
//! StorageClass). ArgoCD installs them before the environments, so one sync
//! prepares a fresh cluster; the docs page lists them.

use super::Plan;
use crate::model::{Cloud, Placement, SecretStore, StrategyKind};

/// A controller the generated objects need.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Addon {
    ArgoRollouts,
    ExternalSecrets,
    SealedSecrets,
    IngressNginx,
    AwsLoadBalancerController,
    CertManager,
    KubePrometheusStack,
    Strimzi,
    Reloader,
    Kyverno,
    Vpa,
    OpenTelemetryOperator,
    FluentBit,
    DatadogAgent,
    ClusterAutoscaler,
    Keda,
    IstioBase,
    IstioCni,
    Istiod,
    LinkerdCrds,
    LinkerdCni,
    LinkerdControlPlane,
    Velero,
}

/// One add-on's row: where its chart lives and what needs it.
pub struct AddonSpec {
    pub addon: Addon,
    pub name: &'static str,
    pub repo_url: &'static str,
    pub chart: &'static str,
    pub version: &'static str,
    pub namespace: &'static str,
    /// What in the output needs it, for the docs.
    pub needed_by: &'static str,
    /// Chart values, as YAML text (ArgoCD's `helm.values`).
    pub values: &'static str,
}

/// The table, one row per [`Addon`].
pub const ADDONS: &[AddonSpec] = &[
    AddonSpec {
        addon: Addon::ArgoRollouts,
        name: "argo-rollouts",
        repo_url: "https://argoproj.github.io/argo-helm",
        chart: "argo-rollouts",
        version: "2.39.0",
        namespace: "argo-rollouts",
        needed_by: "Rollouts and AnalysisTemplates (canary and blue-green strategies)",
        values: "",
    },
    AddonSpec {
        addon: Addon::ExternalSecrets,
        name: "external-secrets",
        repo_url: "https://charts.external-secrets.io",
        chart: "external-secrets",
        version: "0.17.0",
        namespace: "external-secrets",
        needed_by: "SecretStores and ExternalSecrets (secrets from the external store)",
        values: "installCRDs: true\n",
    },
    AddonSpec {
        addon: Addon::SealedSecrets,
        name: "sealed-secrets",
        repo_url: "https://bitnami-labs.github.io/sealed-secrets",
        chart: "sealed-secrets",
        version: "2.17.2",
        namespace: "kube-system",
        needed_by: "SealedSecrets (secrets sealed with kubeseal)",
        values: "fullnameOverride: sealed-secrets-controller\n",
    },
    AddonSpec {
        addon: Addon::IngressNginx,
        name: "ingress-nginx",
        repo_url: "https://kubernetes.github.io/ingress-nginx",
        chart: "ingress-nginx",
        version: "4.12.1",
        namespace: "ingress-nginx",
        needed_by: "Ingresses of class nginx, and of class alb on GKE and AKS",
        values: "controller:\n  metrics:\n    enabled: true\n",
    },
    AddonSpec {
        addon: Addon::AwsLoadBalancerController,
        name: "aws-load-balancer-controller",
        repo_url: "https://aws.github.io/eks-charts",
        chart: "aws-load-balancer-controller",
        version: "1.14.1",
        namespace: "kube-system",
        needed_by: "Ingresses of class alb",
        values: "serviceAccount:\n  name: aws-load-balancer-controller\n",
    },
    AddonSpec {
        addon: Addon::CertManager,
        name: "cert-manager",
        repo_url: "https://charts.jetstack.io",
        chart: "cert-manager",
        version: "v1.17.2",
        namespace: "cert-manager",
        needed_by: "TLS certificates of nginx Ingresses, from Let's Encrypt through the ClusterIssuer `letsencrypt` (`k8s/_addons/<cluster>/cert-manager/`)",
        values: "crds:\n  enabled: true\n",
    },
    AddonSpec {
        addon: Addon::KubePrometheusStack,
        name: "kube-prometheus-stack",
        repo_url: "https://prometheus-community.github.io/helm-charts",
        chart: "kube-prometheus-stack",
        version: "72.6.2",
        namespace: "monitoring",
        needed_by: "ServiceMonitors, PrometheusRules and Prometheus analysis",
        values: "",
    },
    AddonSpec {
        addon: Addon::Strimzi,
        name: "strimzi-kafka-operator",
        repo_url: "https://strimzi.io/charts/",
        chart: "strimzi-kafka-operator",
        version: "0.45.0",
        namespace: "strimzi",
        needed_by: "Kafka, KafkaNodePool and KafkaTopic (in-cluster Kafka)",
        values: "watchAnyNamespace: true\n",
    },
    AddonSpec {
        addon: Addon::Reloader,
        name: "reloader",
        repo_url: "https://stakater.github.io/stakater-charts",
        chart: "reloader",
        version: "2.2.9",
        namespace: "reloader",
        needed_by: "workloads that read Secrets: a rotated Secret rolls their pods (Rollouts through their strategy)",
        values: "reloader:\n  isArgoRollouts: true\n",
    },
    AddonSpec {
        addon: Addon::Kyverno,
        name: "kyverno",
        repo_url: "https://kyverno.github.io/kyverno/",
        chart: "kyverno",
        // Kyverno 1.17 (per-rule `failureAction`).
        version: "3.7.2",
        namespace: "kyverno",
        needed_by: "Policies holding every pod to the program's promises (`policy = kyverno`)",
        values: "",
    },
    AddonSpec {
        addon: Addon::Vpa,
        name: "vpa",
        repo_url: "https://charts.fairwinds.com/stable",
        chart: "vpa",
        version: "4.10.0",
        namespace: "vpa",
        needed_by: "VerticalPodAutoscalers (`vpa = ...` on a service)",
        // deployc never asks the VPA to evict pods (no Auto or Recreate).
        values: "updater:\n  enabled: false\n",
    },
    AddonSpec {
        addon: Addon::OpenTelemetryOperator,
        name: "opentelemetry-operator",
        repo_url: "https://open-telemetry.github.io/opentelemetry-helm-charts",
        chart: "opentelemetry-operator",
        version: "0.119.0",
        namespace: "opentelemetry-operator",
        needed_by: "OpenTelemetryCollectors (`tracing = ...`)",
        // The admission webhook's certificate without requiring cert-manager;
        // the contrib collector carries k8sattributes and transform.
        values: "admissionWebhooks:\n  certManager:\n    enabled: false\n  autoGenerateCert:\n    enabled: true\nmanager:\n  collectorImage:\n    repository: otel/opentelemetry-collector-contrib\n",
    },
    AddonSpec {
        addon: Addon::FluentBit,
        name: "fluent-bit",
        repo_url: "https://fluent.github.io/helm-charts",
        chart: "fluent-bit",
        version: "0.47.10",
        namespace: super::logs::FLUENT_BIT_NAMESPACE,
        needed_by: "log shipping (`logs = elk`, `loki` or `cloudwatch`): a DaemonSet reading this program's namespaces",
        // Generated per cluster from the program (plan/logs.rs).
        values: "",
    },
    AddonSpec {
        addon: Addon::DatadogAgent,
        name: "datadog",
        repo_url: "https://helm.datadoghq.com",
        chart: "datadog",
        version: "3.81.0",
        namespace: super::logs::DATADOG_NAMESPACE,
        needed_by: "log shipping (`logs = datadog`): the Datadog agent, collecting this program's namespaces",
        // Generated per cluster from the program (plan/logs.rs).
        values: "",
    },
    AddonSpec {
        addon: Addon::ClusterAutoscaler,
        name: "cluster-autoscaler",
        repo_url: "https://kubernetes.github.io/autoscaler",
        chart: "cluster-autoscaler",
        version: "9.46.3",
        namespace: "kube-system",
        needed_by: "the EKS node groups: nodes are added when pods cannot be scheduled and removed when idle, within the node group's min and max",
        // The ServiceAccount Terraform's IRSA role trusts
        // (`system:serviceaccount:kube-system:cluster-autoscaler`); the
        // cluster name, region, image and role are per cluster
        // ([`cluster_values`]).
        values: "cloudProvider: aws\nextraArgs:\n  balance-similar-node-groups: true\n  expander: least-waste\nrbac:\n  serviceAccount:\n    create: true\n    name: cluster-autoscaler\n",
    },
    AddonSpec {
        addon: Addon::IstioBase,
        name: "istio-base",
        repo_url: "https://istio-release.storage.googleapis.com/charts",
        chart: "base",
        version: "1.26.2",
        namespace: "istio-system",
        needed_by: "Istio's CRDs: PeerAuthentications, AuthorizationPolicies, VirtualServices, DestinationRules (`mesh = istio`)",
        values: "defaultRevision: default\n",
    },
    AddonSpec {
        addon: Addon::IstioCni,
        name: "istio-cni",
        repo_url: "https://istio-release.storage.googleapis.com/charts",
        chart: "cni",
        version: "1.26.2",
        namespace: "istio-system",
        // The node agent sets up each pod's redirection, so injected pods
        // need no NET_ADMIN init container (Pod Security `restricted`).
        needed_by: "the traffic redirection of injected pods without privileged init containers (`mesh = istio`)",
        values: "",
    },
    AddonSpec {
        addon: Addon::Istiod,
        name: "istiod",
        repo_url: "https://istio-release.storage.googleapis.com/charts",
        chart: "istiod",
        version: "1.26.2",
        namespace: "istio-system",
        needed_by: "sidecar injection, certificates and configuration of the mesh (`mesh = istio`)",
        // The CNI plugin instead of istio-init; native sidecars so Jobs complete.
        values: "pilot:\n  cni:\n    enabled: true\n  env:\n    ENABLE_NATIVE_SIDECARS: \"true\"\n",
    },
    AddonSpec {
        addon: Addon::Keda,
        name: "keda",
        repo_url: "https://kedacore.github.io/charts",
        chart: "keda",
        version: "2.16.1",
        namespace: super::keda::NAMESPACE,
        needed_by: "ScaledObjects and TriggerAuthentications (`queue_scaling`: workers scaled on a Redis list, a Kafka lag or an SQS queue's depth)",
        // On an EKS cluster with SQS scaling, its operator's IRSA role is
        // added per cluster ([`cluster_values`]).
        values: "",
    },
    AddonSpec {
        addon: Addon::LinkerdCrds,
        name: "linkerd-crds",
        repo_url: "https://helm.linkerd.io/edge",
        chart: "linkerd-crds",
        version: "2024.11.8",
        namespace: "linkerd",
        needed_by: "Linkerd's CRDs: Servers, AuthorizationPolicies, MeshTLSAuthentications (`mesh = linkerd`)",
        values: "",
    },
    AddonSpec {
        addon: Addon::LinkerdCni,
        name: "linkerd2-cni",
        repo_url: "https://helm.linkerd.io/edge",
        chart: "linkerd2-cni",
        version: "2024.11.8",
        namespace: "linkerd-cni",
        needed_by: "the traffic redirection of injected pods without privileged init containers (`mesh = linkerd`)",
        values: "",
    },
    AddonSpec {
        addon: Addon::LinkerdControlPlane,
        name: "linkerd-control-plane",
        repo_url: "https://helm.linkerd.io/edge",
        chart: "linkerd-control-plane",
        version: "2024.11.8",
        namespace: "linkerd",
        // The trust anchor and issuer come from the team (cert-manager and
        // trust-manager, as Linkerd documents): the ConfigMap
        // `linkerd-identity-trust-roots` and the Secret `linkerd-identity-issuer`.
        needed_by: "proxy injection and mutual TLS identities (`mesh = linkerd`); the team provides the trust anchor ConfigMap `linkerd-identity-trust-roots` and the issuer Secret `linkerd-identity-issuer` in `linkerd`",
        values: "cniEnabled: true\nproxy:\n  nativeSidecar: true\nidentity:\n  externalCA: true\n  issuer:\n    scheme: kubernetes.io/tls\n",
    },
    AddonSpec {
        addon: Addon::Velero,
        name: "velero",
        repo_url: "https://vmware-tanzu.github.io/helm-charts",
        chart: "velero",
        // Velero 1.18.2; its AWS plugin is `plan::velero::AWS_PLUGIN_IMAGE`.
        version: "12.2.1",
        namespace: super::velero::NAMESPACE,
        needed_by: "volume backups (`volume_backups`): Schedules backing up environment namespaces with EBS snapshots of their volumes to the cluster's S3 bucket, and the Sealed Secrets keys",
        // Generated per cluster from the program (plan/velero.rs).
        values: "",
    },
];

/// The values an add-on is installed with: its row's, or, under a mesh,
/// the ingress controller's pods and Prometheus joined to the mesh. The
/// ingress controller's sidecar carries its requests to the services over
/// mutual TLS and leaves the load balancer's traffic to it alone
/// (`includeInboundPorts: ""`); a meshed Prometheus (Linkerd) scrapes over
/// mutual TLS (Istio's Prometheus stays outside and scrapes a `PERMISSIVE`
/// port instead, as Istio documents).
pub fn values(plan: &Plan, a: &AddonSpec) -> String {
    use crate::model::Mesh;
    match (a.addon, plan.model.project.mesh) {
        (Addon::IngressNginx, Some(Mesh::Istio)) => "controller:\n  metrics:\n    enabled: true\n  podLabels:\n    sidecar.istio.io/inject: \"true\"\n  podAnnotations:\n    traffic.sidecar.istio.io/includeInboundPorts: \"\"\n".into(),
        (Addon::IngressNginx, Some(Mesh::Linkerd)) => "controller:\n  metrics:\n    enabled: true\n  podAnnotations:\n    linkerd.io/inject: enabled\n".into(),
        (Addon::KubePrometheusStack, Some(Mesh::Linkerd)) => "prometheus:\n  prometheusSpec:\n    podMetadata:\n      annotations:\n        linkerd.io/inject: enabled\n".into(),
        _ => a.values.into(),
    }
}

/// The namespace an add-on is installed in: its row's, except the Sealed
/// Secrets controller, which runs where the program's
/// `sealed_secrets { controller_namespace }` says (`kubeseal` and Velero's
/// key Schedule look for it there).
pub fn namespace<'a>(model: &'a crate::model::Model, a: &'a AddonSpec) -> &'a str {
    match (a.addon, super::velero::sealed_secrets_namespace(model)) {
        (Addon::SealedSecrets, Some(ns)) => ns,
        _ => a.namespace,
    }
}

/// The row of an add-on. Every variant has one (a unit test checks).
pub fn spec(a: Addon) -> &'static AddonSpec {
    ADDONS.iter().find(|s| s.addon == a).unwrap_or(&ADDONS[0])
}

/// Whether some environment runs a resource with volumes in the cluster,
/// so the output needs the StorageClass of `k8s/_cluster/`.
pub fn needs_cluster_objects(plan: &Plan) -> bool {
    let model = plan.model;
    plan.envs.iter().any(|e| model.resources.iter().any(|r| e.in_cluster(r.id) && r.engine.can_run_in_cluster()))
}

/// The add-ons a program's output needs, in table order.
pub fn needed(plan: &Plan) -> Vec<&'static AddonSpec> {
    let model = plan.model;
    let mut need = Vec::new();
    if model.environments.iter().any(|e| !matches!(e.progressive(), StrategyKind::Rolling { .. })) {
        need.push(Addon::ArgoRollouts);
    }
    // Each cluster's store (a cloud's own store follows the cluster's cloud).
    let mut stores: Vec<SecretStore> = model.environments.iter().map(|e| model.secret_store_of(e)).collect();
    if stores.is_empty() {
        stores.push(model.project.secret_store.clone());
    }
    let external = stores.iter().any(|s| {
        matches!(
            s,
            SecretStore::AwsSecretsManager { .. } | SecretStore::Vault { .. } | SecretStore::GcpSecretManager { .. }
        )
    });
    if external {
        need.push(Addon::ExternalSecrets);
    }
    if stores.iter().any(|s| matches!(s, SecretStore::SealedSecrets { .. })) {
        need.push(Addon::SealedSecrets);
    }
    // The ingress controllers each environment's routes go through.
    for e in &model.environments {
        let u = super::routes::IngressUse::of_env(model, e);
        need.extend(u.alb.then_some(Addon::AwsLoadBalancerController));
        need.extend(u.nginx.then_some(Addon::IngressNginx));
        need.extend(u.cert_manager.then_some(Addon::CertManager));
    }
    if model.observability.metrics.is_some() || model.observability.alerts.is_some() {
        need.push(Addon::KubePrometheusStack);
    }
    for r in &model.resources {
        let in_cluster = model.environments.iter().any(|e| e.resources[r.id.index()].placement == Placement::InCluster);
        if let (true, Some(op)) = (in_cluster, super::engines::spec(&r.engine).operator) {
            need.push(op);
        }
    }
    if model.project.policy.is_some() {
        need.push(Addon::Kyverno);
    }
    if model.services.iter().any(|s| s.vpa.is_some()) {
        need.push(Addon::Vpa);
    }
    if model.observability.tracing.is_some() {
        need.push(Addon::OpenTelemetryOperator);
    }
    if let Some(a) = super::logs::addon(model) {
        need.push(a);
    }
    // The add-ons' Secrets (the log agent's, ArgoCD's webhook secret) come
    // from the store through External Secrets.
    if !super::addon_secrets::addon_secrets(plan).is_empty() {
        if let SecretStore::AwsSecretsManager { .. }
        | SecretStore::Vault { .. }
        | SecretStore::GcpSecretManager { .. } = model.project.secret_store
        {
            need.push(Addon::ExternalSecrets);
        }
    }
    // Terraform creates the EKS clusters' node groups and the autoscaler's
    // IRSA role; the controller resizes them. Its ServiceAccount names the
    // role by ARN, so the program must name the AWS account: without
    // credentials the controller would only crash.
    if model.aws_account().is_some()
        && plan.topology.clusters.iter().any(|c| c.created && matches!(c.cloud, Cloud::Aws { .. }))
    {
        need.push(Addon::ClusterAutoscaler);
    }
    match model.project.mesh {
        Some(crate::model::Mesh::Istio) => need.extend([Addon::IstioBase, Addon::IstioCni, Addon::Istiod]),
        Some(crate::model::Mesh::Linkerd) => {
            need.extend([Addon::LinkerdCrds, Addon::LinkerdCni, Addon::LinkerdControlPlane])
        }
        None => {}
    }
    // Reloader serves the workloads that read a Secret (the inventory says which).
    if plan.envs.iter().any(|e| e.env.deployments.iter().any(|d| super::keda::scales(e, d))) {
        need.push(Addon::Keda);
    }
    if plan.envs.iter().any(|e| !e.secrets().is_empty()) {
        need.push(Addon::Reloader);
    }
    if super::velero::any(model, &plan.topology.clusters) {
        need.push(Addon::Velero);
    }
    need.sort();
    need.dedup();
    need.into_iter().map(spec).collect()
}

/// What the routes of a cluster's environments need.
pub fn cluster_ingress(model: &crate::model::Model, cluster: &super::topology::Cluster) -> super::routes::IngressUse {
    use super::routes::IngressUse;
    cluster.envs.iter().fold(IngressUse::default(), |a, e| a.or(IngressUse::of_env(model, model.env(*e))))
}

/// ingress-nginx's values in one cluster: the table's (or the mesh's), and
/// on GKE and AKS the controller's Service takes the address Terraform
/// reserved for the cluster, by name, so the DNS records that point there
/// reach it (without it the Service gets a passing address of its own).
fn ingress_nginx_values(plan: &Plan, spec: &AddonSpec, cluster: &super::topology::Cluster) -> String {
    let q = |s: &str| serde_json::Value::String(s.to_string()).to_string();
    let mut v = values(plan, spec);
    let service = match &cluster.cloud {
        Cloud::Aws { .. } => return v,
        // GKE reads the reserved address's name from this annotation only
        // for Services of the regional external load balancer class.
        Cloud::Gcp { .. } => format!(
            "    loadBalancerClass: networking.gke.io/l4-regional-external\n    annotations:\n      networking.gke.io/load-balancer-ip-addresses: {}\n",
            q(&super::topology::ingress_address_name(cluster))
        ),
        Cloud::Azure { .. } => format!(
            "    annotations:\n      service.beta.kubernetes.io/azure-pip-name: {}\n      service.beta.kubernetes.io/azure-load-balancer-resource-group: {}\n",
            q(&super::topology::ingress_address_name(cluster)),
            q(&super::topology::ingress_address_group(cluster))
        ),
    };
    // The table's values start with `controller:`; the Service goes under it.
    v = v.replacen("controller:\n", &format!("controller:\n  service:\n{service}"), 1);
    v
}

/// An add-on's chart values in one cluster: the table's, plus what only
/// that cluster knows. `None` when the add-on does not run there (the
/// autoscaler runs only in clusters this output creates, which have its
/// node groups and its IAM role, and only when the AWS account is known).
pub fn cluster_values(plan: &Plan, spec: &AddonSpec, cluster: &super::topology::Cluster) -> Option<String> {
    let model = plan.model;
    // The ingress add-ons run where some environment's routes need them.
    let ingress = cluster_ingress(model, cluster);
    let unused = match spec.addon {
        Addon::IngressNginx => !ingress.nginx,
        Addon::CertManager => !ingress.cert_manager,
        Addon::AwsLoadBalancerController => !ingress.alb,
        _ => false,
    };
    if unused {
        return None;
    }
    if spec.addon == Addon::IngressNginx {
        return Some(ingress_nginx_values(plan, spec, cluster));
    }
    let Cloud::Aws { region, cluster: eks, .. } = &cluster.cloud else {
        // The autoscaler and the load balancer controller are AWS's: GKE and
        // AKS scale their node pools and serve load balancers themselves.
        let aws_only =
            matches!(spec.addon, Addon::ClusterAutoscaler | Addon::AwsLoadBalancerController | Addon::Velero);
        return (!aws_only).then(|| values(plan, spec));
    };
    // Strings as JSON literals, which YAML reads as double-quoted scalars.
    let q = |s: &str| serde_json::Value::String(s.to_string()).to_string();
    // The IRSA role Terraform's cluster root names `<cluster name>-<suffix>`.
    let role = |suffix: &str| {
        model.aws_account().map(|a| {
            format!(
                "  annotations:\n    eks.amazonaws.com/role-arn: {}\n",
                q(&super::identity::role_arn(a, &format!("{}-{suffix}", cluster.name)))
            )
        })
    };
    match spec.addon {
        Addon::ClusterAutoscaler => {
            let role = role("cluster-autoscaler")?;
            if !cluster.created {
                return None;
            }
            // The autoscaler's minor version follows the cluster's.
            let version = &eks.version;
            let mut v = format!(
                "autoDiscovery:\n  clusterName: {}\nawsRegion: {}\nimage:\n  tag: {}\n{}",
                q(&cluster.name),
                q(region),
                q(&format!("v{version}.0")),
                values(plan, spec)
            );
            v.push_str(&role.lines().map(|l| format!("  {l}\n")).collect::<String>());
            Some(v)
        }
        Addon::AwsLoadBalancerController if cluster.created => {
            // The nodes' instance metadata allows one hop (IMDSv2), so the
            // controller cannot read its VPC from there: it finds the VPC by
            // the Name tag Terraform gives it (the cluster's name).
            let mut v = format!(
                "clusterName: {}\nregion: {}\nvpcTags:\n  Name: {}\n{}",
                q(&cluster.name),
                q(region),
                q(&cluster.name),
                values(plan, spec)
            );
            if let Some(r) = role("lb-controller") {
                v.push_str(&r);
            }
            Some(v)
        }
        Addon::Keda => {
            // The operator reads the depth of SQS queues as its own IRSA
            // role, which the cluster's Terraform root creates when some
            // environment here scales on one (`plan::keda`).
            let sqs = cluster.created
                && cluster.envs.iter().any(|e| !super::keda::sqs_queues(model, model.env(*e)).is_empty());
            let mut v = values(plan, spec);
            if let (true, Some(account)) = (sqs, model.aws_account()) {
                let arn = super::identity::role_arn(account, &super::keda::operator_role_name(cluster));
                v.push_str(&format!(
                    "podIdentity:\n  aws:\n    irsa:\n      enabled: true\n      roleArn: {}\nserviceAccount:\n  operator:\n    name: {}\n",
                    q(&arn),
                    q(super::keda::OPERATOR_ACCOUNT)
                ));
            }
            Some(v)
        }
        // Only where an environment declares volume backups; the values
        // are generated (plan/velero.rs).
        Addon::Velero => super::velero::of(model, cluster).map(|_| String::new()),
        _ => Some(values(plan, spec)),
    }
}

/// The folder of cluster-wide objects (`k8s/_cluster/`), which every
/// environment's volumes need and which no single environment may own:
/// several environments can share a cluster. Environment names cannot
/// start with an underscore, so the folder never collides with one.
pub const CLUSTER_DIR: &str = "k8s/_cluster";

/// The folder of one cloud's cluster-wide objects: [`CLUSTER_DIR`], or
/// `k8s/_cluster/<cloud>` when the clusters are in several clouds (each
/// cloud's StorageClass names its own CSI driver).
pub fn cluster_dir(plan: &Plan, cloud: &Cloud) -> String {
    let mut kinds: Vec<&str> = plan.topology.clusters.iter().map(|c| c.cloud.kind()).collect();
    kinds.sort();
    kinds.dedup();
    if kinds.len() > 1 {
        format!("{CLUSTER_DIR}/{}", cloud.kind())
    } else {
        CLUSTER_DIR.to_string()
    }
}

/// The StorageClass every volume of the output names, per cloud: encrypted,
/// bound when the pod is scheduled (so the volume lands in the pod's zone),
/// and kept when its claim is deleted.
pub struct StorageClassSpec {
    pub name: &'static str,
    pub provisioner: &'static str,
    pub parameters: &'static [(&'static str, &'static str)],
}

/// The StorageClass of an in-cluster resource's data volume in an
/// environment: the program's `storage_class`, else the one `k8s/_cluster/`
/// defines for the environment's cloud. Backup volumes always use the
/// generated (encrypted) class.
pub fn data_class<'a>(
    model: &'a crate::model::Model,
    env: &'a crate::model::Environment,
    r: &'a crate::model::Resource,
) -> &'a str {
    r.storage_class.as_deref().unwrap_or(storage_class(model.cloud_of(env)).name)
}

pub fn storage_class(cloud: &Cloud) -> StorageClassSpec {
    match cloud {
        Cloud::Aws { .. } => StorageClassSpec {
            name: "gp3-encrypted",
            provisioner: "ebs.csi.aws.com",
            parameters: &[("type", "gp3"), ("encrypted", "true")],
        },
        Cloud::Gcp { .. } => StorageClassSpec {
            name: "pd-balanced-encrypted",
            provisioner: "pd.csi.storage.gke.io",
            parameters: &[("type", "pd-balanced")],
        },
        Cloud::Azure { .. } => StorageClassSpec {
            name: "managed-csi-premium",
            provisioner: "disk.csi.azure.com",
            parameters: &[("skuName", "Premium_LRS")],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_addon_has_exactly_one_row() {
        use Addon::*;
        for a in [
            ArgoRollouts,
            ExternalSecrets,
            SealedSecrets,
            IngressNginx,
            AwsLoadBalancerController,
            CertManager,
            KubePrometheusStack,
            Strimzi,
            Reloader,
            Kyverno,
            Vpa,
            OpenTelemetryOperator,
            FluentBit,
            DatadogAgent,
            ClusterAutoscaler,
            Keda,
            IstioBase,
            IstioCni,
            Istiod,
            LinkerdCrds,
            LinkerdCni,
            LinkerdControlPlane,
            Velero,
        ] {
            assert_eq!(ADDONS.iter().filter(|s| s.addon == a).count(), 1, "{a:?}");
        }
    }
}
