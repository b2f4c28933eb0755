// Package audit analyses Kubernetes API server auditing: it lints an
// audit.k8s.io/v1 Policy and explains how a request would be logged, reads
// audit logs as a stream and reports what an attacker's activity looks like
// in them, and derives least-privilege RBAC roles from the requests a log
// records.
//
// The policy is evaluated by the API server's own code
// (k8s.io/apiserver/pkg/audit/policy), so that a level kubeguard predicts
// is the level the server logs at; kubeguard adds positions, the deciding
// rule and the lint. The package is pure: it takes bytes and readers and
// returns results, and does no I/O of its own beyond the readers given.
package audit
