// Package netpol computes which pods may open connections to which under
// Kubernetes NetworkPolicy (networking.k8s.io/v1), and explains why.
//
// It is a pure library: it takes namespaces, workloads and policies (see
// Decode for making them from manifests) and answers questions about them,
// without I/O. A workload (Deployment, StatefulSet, Job, ...) stands for
// the pods of its template; a Pod stands for itself.
//
// The semantics are those of the NetworkPolicy API reference and the
// upstream e2e suite:
//
//   - A pod is isolated for ingress (egress) when a policy of its namespace
//     selects it and has Ingress (Egress) among its policy types. A policy
//     that declares no types has Ingress, and Egress too when it has at
//     least one egress rule ("egress: []" is no rule).
//   - Traffic is allowed when the source's egress and the destination's
//     ingress both allow it; a direction that is not isolated allows
//     everything, and the allowances of every policy selecting a pod add up.
//   - A rule with no (or an empty list of) from/to peers matches every
//     endpoint, including addresses outside the cluster; a rule with no (or
//     an empty list of) ports matches every port of every protocol.
//   - A peer's podSelector alone selects pods of the policy's namespace; a
//     namespaceSelector alone, every pod of the namespaces it selects; both
//     in one peer, the pods that match both (AND); two peers in a list are
//     OR. Namespaces always carry kubernetes.io/metadata.name=<name>.
//   - ipBlock matches addresses outside the cluster in its CIDR and in none
//     of its except CIDRs. Whether it matches traffic of pods (by pod IP) is
//     implementation-defined; when the input gives pod IPs they are
//     matched, as the upstream e2e suite expects, and the explanation says
//     so.
//   - A port without a number is every port of its protocol (TCP by
//     default); endPort makes a range; a named port is resolved against the
//     container ports of the destination pod (the selected pod for
//     ingress, the peer for egress), name and protocol both matching.
//   - Pods with hostNetwork are out of scope: NetworkPolicy does not govern
//     them in a defined way, so they are neither analysed nor selected.
package netpol
