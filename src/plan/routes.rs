//! How user traffic reaches a service: its Ingresses (the main route and,
//! for blue-green, the preview route), the annotations the ingress
//! controller in use needs, the Argo Rollouts traffic routing that makes
//! canary weights apply to user traffic, and which peers the network policy
//! must admit for that controller.
//!
//! **Invariant:** every canary Rollout behind an Ingress routes traffic
//! through that Ingress (`trafficRouting`), and every blue-green preview
//! Service of an exposed service has a route.

use super::crd::{AlbRouting, IstioRouting, NginxRouting, TrafficRouting, VirtualServiceRef};
use super::env::render;
use super::network::{INGRESS_NAMESPACE, PRIVATE_CIDR};
use super::EnvPlan;
use crate::model::{Cloud, Environment, Exposure, Model, Probe, Service, StrategyKind};
use std::collections::BTreeMap;

/// The ingress controllers deployc knows; any other class is treated as an
/// nginx-compatible controller in the ingress-nginx namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Controller {
    Nginx,
    /// The AWS Load Balancer Controller (`class = "alb"`).
    Alb,
}

/// The controller behind an ingress class in an environment. The AWS Load
/// Balancer Controller runs only on EKS: on GKE and AKS an `alb` Ingress is
/// served by ingress-nginx, which the cluster's reserved address fronts
/// (a standby on another cloud keeps the primary's program).
pub fn controller(model: &Model, env: &Environment, class: &str) -> Controller {
    match (class, model.cloud_of(env)) {
        ("alb", Cloud::Aws { .. }) => Controller::Alb,
        _ => Controller::Nginx,
    }
}

/// The `ingressClassName` of a route served by `ctl`: the program's class,
/// or `nginx` where an `alb` Ingress falls back to ingress-nginx.
fn class_name(ctl: Controller, class: &str) -> String {
    match (ctl, class) {
        (Controller::Nginx, "alb") => "nginx".into(),
        _ => class.into(),
    }
}

/// Whether a service's routes in an environment go through ingress-nginx,
/// through the ALB, or through no Ingress, and whether cert-manager issues
/// their certificates: the add-ons follow from it ([`super::addons`]).
pub fn ingress_use(model: &Model, env: &Environment, s: &Service) -> IngressUse {
    match &s.expose {
        Exposure::Ingress { class, tls, .. } if s.service_port.is_some() => match controller(model, env, class) {
            Controller::Nginx => IngressUse { nginx: true, alb: false, cert_manager: *tls },
            Controller::Alb => IngressUse { nginx: false, alb: true, cert_manager: false },
        },
        // The preview route of an internal service promoted by hand.
        Exposure::Internal
            if manual_promotion_in(env, s)
                && s.port.is_some()
                && s.service_port.is_some()
                && !env.domain.is_empty() =>
        {
            IngressUse { nginx: true, alb: false, cert_manager: true }
        }
        _ => IngressUse::default(),
    }
}

/// What the Ingresses of a service need from the cluster.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IngressUse {
    pub nginx: bool,
    pub alb: bool,
    /// cert-manager issues a certificate (nginx with TLS).
    pub cert_manager: bool,
}

impl IngressUse {
    /// What every deployed service of an environment needs.
    pub fn of_env(model: &Model, env: &Environment) -> IngressUse {
        env.deployments
            .iter()
            .fold(IngressUse::default(), |a, d| a.or(ingress_use(model, env, model.service(d.service))))
    }

    /// What either needs.
    pub fn or(self, u: IngressUse) -> IngressUse {
        IngressUse {
            nginx: self.nginx || u.nginx,
            alb: self.alb || u.alb,
            cert_manager: self.cert_manager || u.cert_manager,
        }
    }
}

const ALB: &str = "alb.ingress.kubernetes.io/";

/// The Service port an Ingress backend names.
#[derive(Clone, Debug, PartialEq)]
pub enum BackendPort {
    Number(u16),
    /// `use-annotation`: the ALB forward action Argo Rollouts writes for canary weights.
    UseAnnotation,
}

/// One Ingress of a service.
#[derive(Clone, Debug)]
pub struct Route {
    pub name: String,
    pub class: String,
    pub controller: Controller,
    pub host: String,
    pub path: String,
    pub service: String,
    pub port: BackendPort,
    pub annotations: BTreeMap<String, String>,
    /// The TLS Secret cert-manager fills (nginx); `None` without TLS or on an ALB.
    pub tls_secret: Option<String>,
}

/// Who may open connections to an exposed service's pods.
#[derive(Clone, Debug, PartialEq)]
pub enum Peer {
    /// Pods of a namespace (the ingress-nginx controller).
    Namespace(String),
    /// An address block (the VPC, where ALB ip targets are reached from; the internet for a LoadBalancer).
    Cidr(String),
}

/// Address blocks of private networks (VPC, VPN): the only clients an
/// internal service's preview route admits.
pub const PRIVATE_RANGES: &str = "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16";

/// Whether a blue-green environment waits for a person to promote.
fn manual_promotion(cx: &EnvPlan, s: &Service) -> bool {
    manual_promotion_in(cx.env, s)
}

fn manual_promotion_in(env: &Environment, s: &Service) -> bool {
    matches!(env.strategy_of(s.id), StrategyKind::BlueGreen { auto_promote: false, auto_promote_after_ms: None, .. })
}

/// The peers outside the namespace that reach a service's pods on its port.
pub fn ingress_peers(cx: &EnvPlan, s: &Service) -> Vec<Peer> {
    match &s.expose {
        // The preview route of an internal service goes through ingress-nginx.
        Exposure::Internal if manual_promotion(cx, s) && s.port.is_some() => {
            vec![Peer::Namespace(INGRESS_NAMESPACE.into())]
        }
        Exposure::Ingress { class, .. } => match controller(cx.model, cx.env, class) {
            Controller::Nginx => vec![Peer::Namespace(INGRESS_NAMESPACE.into())],
            // ALB ip targets: the load balancer's nodes connect from VPC addresses.
            Controller::Alb => vec![Peer::Cidr(PRIVATE_CIDR.into())],
        },
        Exposure::LoadBalancer => vec![Peer::Cidr("0.0.0.0/0".into())],
        Exposure::Internal => vec![],
    }
}

/// The ALB group all Ingresses of one environment share, so that one load
/// balancer (and one DNS name) serves every path of a host.
pub fn alb_group(cx: &EnvPlan) -> String {
    alb_group_name(cx.model, cx.env)
}

/// [`alb_group`] from the model and the environment.
pub fn alb_group_name(model: &crate::model::Model, env: &crate::model::Environment) -> String {
    format!("{}-{}", model.project.name, env.name)
}

/// The preview host of a blue-green service: `preview-<host>`.
pub fn preview_host(host: &str) -> String {
    format!("preview-{host}")
}

/// The Ingresses of a service in an environment: the main route to the
/// stable/active Service and, for blue-green, a preview route.
pub fn routes(cx: &EnvPlan, s: &Service) -> Vec<Route> {
    // A workload without a port has no route (`expose` needs a port, E0361).
    let Some(service_port) = s.service_port else { return Vec::new() };
    let Exposure::Ingress { host, path, tls, class, certificate } = &s.expose else {
        return internal_preview(cx, s, service_port).into_iter().collect();
    };
    let ctl = controller(cx.model, cx.env, class);
    let class = &class_name(ctl, class);
    let edge = super::edge::edge(cx.model, cx.env);
    // Behind a CDN the ALB serves the origin host CloudFront sends.
    let host = match (&edge, ctl) {
        (Some(e), Controller::Alb) => e.ingress_host(&render(cx, host)),
        _ => render(cx, host),
    };
    let strategy = cx.env.strategy_of(s.id);
    let mut annotations = BTreeMap::new();
    match ctl {
        Controller::Nginx => {
            if *tls {
                annotations
                    .insert("cert-manager.io/cluster-issuer".to_string(), super::certificates::ISSUER.to_string());
            }
            annotations.extend(super::mesh::nginx_annotations(cx, &s.name));
        }
        Controller::Alb => {
            let mut a = |k: &str, v: String| annotations.insert(format!("{ALB}{k}"), v);
            a("scheme", "internet-facing".into());
            // ClusterIP Services: the ALB targets pod addresses directly.
            a("target-type", "ip".into());
            a("group.name", alb_group(cx));
            let readiness = s.readiness.as_ref().or(s.health.as_ref());
            if let Some(Probe::Http { path, .. }) = readiness {
                a("healthcheck-path", path.clone());
            }
            // The environment's web ACL and Shield: every member of the ALB
            // group carries the same values.
            if let Some(edge) = &edge {
                annotations.extend(edge.annotations());
            }
            let mut a = |k: &str, v: String| annotations.insert(format!("{ALB}{k}"), v);
            let behind_cdn = edge.as_ref().is_some_and(|e| e.cdn.is_some());
            if *tls && behind_cdn {
                // CloudFront reaches the origin over HTTPS only: no HTTP listener.
                a("listen-ports", r#"[{"HTTPS": 443}]"#.into());
            } else if *tls {
                a("listen-ports", r#"[{"HTTP": 80}, {"HTTPS": 443}]"#.into());
                a("ssl-redirect", "443".into());
            }
            if *tls {
                annotations.insert(
                    super::edge::SSL_POLICY_ANNOTATION.to_string(),
                    super::edge::env_ssl_policy(cx.env).to_string(),
                );
                let mut a = |k: &str, v: String| annotations.insert(format!("{ALB}{k}"), v);
                if let Some(c) = certificate {
                    a("certificate-arn", render(cx, c));
                }
            }
        }
    }
    let tls_secret = |name: &str| (*tls && ctl == Controller::Nginx).then(|| format!("{name}-tls"));
    let canary = matches!(strategy, StrategyKind::Canary { .. });
    let mut out = vec![Route {
        name: s.name.clone(),
        class: class.clone(),
        controller: ctl,
        host: host.clone(),
        path: path.clone(),
        service: s.name.clone(),
        // With ALB traffic routing Argo Rollouts owns the forward action that splits the weights.
        port: if canary && ctl == Controller::Alb {
            BackendPort::UseAnnotation
        } else {
            BackendPort::Number(service_port)
        },
        annotations: annotations.clone(),
        tls_secret: tls_secret(&s.name),
    }];
    // A warm standby serves its primary's public host too, for the
    // failover (plan/failover.rs).
    if let (Some(f), Exposure::Ingress { host: t, .. }) = (super::failover::of_standby(cx.model, cx.env), &s.expose) {
        let primary = cx.model.environments.iter().find(|e| e.name == f.primary);
        let theirs = primary.map(|p| crate::model::render_env(t, &cx.model.project, &p.name, &p.namespace, &p.domain));
        if theirs.as_deref() == Some(f.host.as_str()) && f.host != host {
            let name = format!("{}-failover", s.name);
            out.push(Route { tls_secret: tls_secret(&name), name, host: f.host.clone(), ..out[0].clone() });
        }
    }
    if matches!(strategy, StrategyKind::BlueGreen { .. }) {
        let name = format!("{}-preview", s.name);
        let mut annotations = annotations;
        if ctl == Controller::Nginx {
            annotations.extend(super::mesh::nginx_annotations(cx, &super::ports::preview_name(s)));
        }
        out.push(Route {
            tls_secret: tls_secret(&name),
            name: name.clone(),
            class: class.clone(),
            controller: ctl,
            host: preview_host(&host),
            path: path.clone(),
            service: super::ports::preview_name(s),
            port: BackendPort::Number(service_port),
            annotations,
        });
    }
    out
}

/// The preview route of an internal service whose blue-green promotion is
/// manual: the person promoting must be able to try the new version, so it
/// gets `preview-<service>.<domain>` through ingress-nginx, admitted from
/// private networks only (the service itself stays unexposed).
fn internal_preview(cx: &EnvPlan, s: &Service, service_port: u16) -> Option<Route> {
    if !manual_promotion(cx, s) || cx.env.domain.is_empty() {
        return None;
    }
    let name = format!("{}-preview", s.name);
    let mut annotations = BTreeMap::from([
        ("cert-manager.io/cluster-issuer".to_string(), super::certificates::ISSUER.to_string()),
        ("nginx.ingress.kubernetes.io/whitelist-source-range".to_string(), PRIVATE_RANGES.to_string()),
    ]);
    annotations.extend(super::mesh::nginx_annotations(cx, &super::ports::preview_name(s)));
    Some(Route {
        tls_secret: Some(format!("{name}-tls")),
        name: name.clone(),
        class: "nginx".into(),
        controller: Controller::Nginx,
        host: preview_host(&format!("{}.{}", s.name, cx.env.domain)),
        path: "/".into(),
        service: super::ports::preview_name(s),
        port: BackendPort::Number(service_port),
        annotations,
    })
}

/// The canary traffic routing of a service: through its Ingress, so that
/// `setWeight` moves that share of user requests to the canary pods. Under
/// Istio the mesh carries the traffic of nginx (whose sidecar forwards to
/// the Service's host) and of every caller inside the cluster, so the
/// weights go on the service's VirtualService instead (host-level
/// splitting between the stable and the canary Service,
/// [`super::mesh::virtual_service`]); an ALB reaches the pods directly,
/// outside the mesh, and keeps splitting the weights itself.
pub fn traffic_routing(cx: &EnvPlan, s: &Service) -> Option<TrafficRouting> {
    let none = TrafficRouting { nginx: None, alb: None, istio: None };
    let alb =
        matches!(&s.expose, Exposure::Ingress { class, .. } if controller(cx.model, cx.env, class) == Controller::Alb);
    if super::mesh::mesh(cx) == Some(crate::model::Mesh::Istio) && !alb && s.service_port.is_some() {
        return Some(TrafficRouting {
            istio: Some(IstioRouting {
                virtual_service: VirtualServiceRef {
                    name: s.name.clone(),
                    routes: vec![super::mesh::PRIMARY_ROUTE.into()],
                },
            }),
            ..none
        });
    }
    let Exposure::Ingress { class, .. } = &s.expose else { return None };
    Some(match controller(cx.model, cx.env, class) {
        Controller::Nginx => TrafficRouting { nginx: Some(NginxRouting { stable_ingress: s.name.clone() }), ..none },
        Controller::Alb => TrafficRouting {
            // No rootService: the Ingress backend is the stable Service, whose
            // name the forward action Argo Rollouts writes then carries.
            alb: Some(AlbRouting { ingress: s.name.clone(), service_port: s.service_port.unwrap_or_default() }),
            ..none
        },
    })
}
