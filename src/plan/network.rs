//! Where the controllers the network policies admit live.

/// Namespace of the ingress controller allowed to reach exposed services.
pub const INGRESS_NAMESPACE: &str = "ingress-nginx";
/// Namespace of Prometheus, allowed to scrape services.
pub const MONITORING_NAMESPACE: &str = "monitoring";
/// Private address space where managed databases and caches live (the VPC).
pub const PRIVATE_CIDR: &str = "10.0.0.0/8";
