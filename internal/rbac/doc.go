// Package rbac analyses Kubernetes RBAC offline, with the semantics of the
// API server's RBAC authorizer, which lives in k8s.io/kubernetes and so is
// written here rather than imported:
//
//   - rule matching (RuleAllows): verbs, API groups and resources with "*",
//     "resource/subresource" and "*/subresource", resourceNames (a request
//     without a name matches only rules without names), non-resource URLs
//     exact or by a trailing "*";
//   - bindings (Policy, Authorizer): ClusterRoleBindings apply everywhere,
//     RoleBindings in their namespace, to a Role of that namespace or a
//     ClusterRole; a ClusterRoleBinding to a Role grants nothing; subjects
//     are matched as the authorizer matches them, a ServiceAccount without
//     namespace taking the RoleBinding's (and matching no one in a
//     ClusterRoleBinding); system:masters is allowed everything, as the
//     API server's authorizer chain allows it before RBAC;
//   - aggregation: ClusterRoles with an aggregationRule get the rules the
//     aggregation controller would write, nested aggregation included;
//   - on top: who can do what (WhoCan), the RBAC good practices' privilege
//     escalation risks as findings (Risks, rated by what a grant reaches),
//     and the shortest chains from a subject, groups included, to
//     cluster-admin power (Hops reports each identity's next move once;
//     Paths spells the chains out). The moves are the routes the API
//     server allows, and only those: impersonating a group needs a user,
//     create is never limited by resourceNames, exec-like rights named
//     after a pod reach that Pod only, bind and escalate go through the
//     roles they name. A pod that escapes to its node is a move to the
//     node, and the node one to every token on it.
//
// Authorizer.Allowed answers as a SubjectAccessReview does, for exactly the
// user and groups given; Authenticated adds the groups authentication
// gives, so that a differential test can hold it to a real API server's
// SubjectAccessReviews with the policies and requests of package rbactest.
package rbac
