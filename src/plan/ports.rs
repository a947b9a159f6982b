//! The ports and Services of a workload (issue 11): the main port (`http`)
//! and the named ones beside it, the main Service (typed by `expose`), the
//! canary or preview Service its strategy routes through, and the extra
//! Services the program names. Kubernetes and Helm render this list.

use super::EnvPlan;
use crate::model::{Exposure, Service, ServiceKind, StrategyKind};

/// One port of a workload, as the container, its Services and its network policy see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortPlan {
    pub name: String,
    pub container_port: u16,
    pub service_port: u16,
    pub protocol: String,
    pub app_protocol: Option<String>,
}

/// One Service of a workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServicePlan {
    pub name: String,
    pub kind: ServiceKind,
    pub ports: Vec<PortPlan>,
}

impl ServicePlan {
    /// The Kubernetes `type` (a headless Service is a ClusterIP one without an IP).
    pub fn type_(&self) -> &'static str {
        match self.kind {
            ServiceKind::ClusterIp | ServiceKind::Headless => "ClusterIP",
            ServiceKind::LoadBalancer => "LoadBalancer",
            ServiceKind::NodePort => "NodePort",
        }
    }
}

/// Every port of a workload, the main one (`http`) first; none without a `port`.
pub fn ports(s: &Service) -> Vec<PortPlan> {
    let Some(main) = s.port else { return Vec::new() };
    let mut out = vec![PortPlan {
        name: "http".into(),
        container_port: main,
        service_port: s.service_port.unwrap_or(main),
        protocol: "TCP".into(),
        app_protocol: None,
    }];
    out.extend(s.ports.iter().map(|p| PortPlan {
        name: p.name.clone(),
        container_port: p.port,
        service_port: p.service_port,
        protocol: p.protocol.clone(),
        app_protocol: p.app_protocol.clone(),
    }));
    out
}

/// The port Prometheus scrapes: the one named `metrics`, else the main one.
pub fn metrics_port(s: &Service) -> &str {
    s.ports.iter().find(|p| p.name == "metrics").map_or("http", |p| p.name.as_str())
}

/// The ports the extra LoadBalancer and NodePort Services publish, which
/// the network policy opens to any address (the main Service's exposure
/// has its own peers, `routes::ingress_peers`).
pub fn public_ports(s: &Service) -> Vec<PortPlan> {
    if matches!(s.expose, Exposure::LoadBalancer) {
        return Vec::new();
    }
    let all = ports(s);
    all.iter()
        .filter(|p| {
            s.services.iter().any(|e| {
                matches!(e.kind, ServiceKind::LoadBalancer | ServiceKind::NodePort)
                    && (e.ports.is_empty() || e.ports.contains(&p.name))
            })
        })
        .cloned()
        .collect()
}

/// The name of a service's canary Service.
pub fn canary_name(s: &Service) -> String {
    s.canary_service.clone().unwrap_or_else(|| format!("{}-canary", s.name))
}

/// The name of a service's preview Service.
pub fn preview_name(s: &Service) -> String {
    s.preview_service.clone().unwrap_or_else(|| format!("{}-preview", s.name))
}

/// The Services of a workload in an environment: the main one (typed by
/// `expose`; the only LoadBalancer it makes), the canary or preview one
/// its strategy needs (ClusterIP), then the extra ones as declared. None
/// for a workload without a port.
pub fn services(cx: &EnvPlan, s: &Service) -> Vec<ServicePlan> {
    let all = ports(s);
    if all.is_empty() {
        return Vec::new();
    }
    let main_kind =
        if matches!(s.expose, Exposure::LoadBalancer) { ServiceKind::LoadBalancer } else { ServiceKind::ClusterIp };
    let mut out = vec![ServicePlan { name: s.name.clone(), kind: main_kind, ports: all.clone() }];
    match cx.env.strategy_of(s.id) {
        StrategyKind::Canary { .. } => {
            out.push(ServicePlan { name: canary_name(s), kind: ServiceKind::ClusterIp, ports: all.clone() })
        }
        StrategyKind::BlueGreen { .. } => {
            out.push(ServicePlan { name: preview_name(s), kind: ServiceKind::ClusterIp, ports: all.clone() })
        }
        StrategyKind::Rolling { .. } => {}
    }
    for e in &s.services {
        let ports = if e.ports.is_empty() {
            all.clone()
        } else {
            all.iter().filter(|p| e.ports.contains(&p.name)).cloned().collect()
        };
        out.push(ServicePlan { name: e.name.clone(), kind: e.kind, ports });
    }
    out
}
