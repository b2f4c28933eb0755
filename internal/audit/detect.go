package audit

import (
	"cmp"

	"fmt"
	jsonv2 "github.com/go-json-experiment/json"
	"slices"
	"strings"
	"time"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// The log detections. Like the policy checks they carry metadata only:
// a Detector runs them over a stream of events.
var (
	LogExec = check.Check{
		ID: "audit-log-exec", Title: "Commands run in, attached to or forwarded from a container", Severity: finding.High, Category: Category, Scope: check.ScopeAudit,
		Rationale:   "exec, attach, port-forward and ephemeral containers give a shell or a network path inside a workload, with its ServiceAccount token and mounted Secrets; attackers use them to move from API access into the cluster's workloads. The kubelet's own exec, run, attach and portForward endpoints, reached through the API server's nodes/proxy, do the same.",
		Remediation: "Confirm who ran them and why; restrict pods/exec, pods/attach, pods/portforward and pods/ephemeralcontainers to break-glass roles, and nodes/proxy to the control plane.",
		DocURL:      "https://kubernetes.io/docs/concepts/security/rbac-good-practices/",
	}
	LogSecretHarvest = check.Check{
		ID: "audit-log-secret-harvest", Title: "One identity read many Secrets in a short time", Severity: finding.High, Category: Category, Scope: check.ScopeAudit,
		Rationale:   "Reading Secrets an identity does not normally read (many in a short window, every Secret of a namespace at once, or those of every namespace) is how stolen credentials are used to collect more. A person's reads all count; a ServiceAccount's reads of its own namespace are a controller's working data and never count, and its reads elsewhere count unless they are part of its learned routine.",
		Remediation: "Check the identity's activity and rotate the Secrets it read; grant get on named Secrets instead of list or watch.",
		DocURL:      "https://kubernetes.io/docs/concepts/security/secrets-good-practices/",
	}
	LogAnonymous = check.Check{
		ID: "audit-log-anonymous", Title: "Anonymous requests beyond the public endpoints", Severity: finding.Medium, Category: Category, Scope: check.ScopeAudit,
		Rationale:   "Anonymous requests to anything but health, version and service-account issuer discovery are probing, or use access that was granted to system:anonymous or system:unauthenticated by mistake.",
		Remediation: "Find the source; remove bindings to system:anonymous and system:unauthenticated, or disable --anonymous-auth.",
		DocURL:      "https://kubernetes.io/docs/reference/access-authn-authz/authentication/#anonymous-requests",
	}
	LogEscalationDenied = check.Check{
		ID: "audit-log-escalation-denied", Title: "Refused attempts to escalate privileges", Severity: finding.High, Category: Category, Scope: check.ScopeAudit,
		Rationale:   "Refused bind, escalate and impersonate requests and refused writes to roles and bindings are attempts to gain power the identity lacks; legitimate clients do not retry what RBAC refuses.",
		Remediation: "Find out who holds the identity's credentials; rotate them if its owner did not make these requests.",
		DocURL:      "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#privilege-escalation-risks",
	}
	LogClusterAdminGrant = check.Check{
		ID: "audit-log-cluster-admin-grant", Title: "cluster-admin power granted, over the cluster or one namespace", Severity: finding.Critical, Category: Category, Scope: check.ScopeAudit,
		Rationale:   "A ClusterRoleBinding to cluster-admin, or a ClusterRole allowing every verb on every resource, gives its subjects the whole cluster; it is an attacker's first persistence step. Bound by a RoleBinding, or written as a Role, the same power covers one namespace: its Secrets, pods and ServiceAccount tokens, roles and bindings (high; critical in kube-system, whose controllers' ServiceAccounts reach the cluster).",
		Remediation: "Confirm the grant was intended; remove it and grant a narrower role.",
		DocURL:      "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege",
	}
	LogPrivilegedPod = check.Check{
		ID: "audit-log-privileged-pod", Title: "Privileged or host-namespace pod created", Severity: finding.High, Category: Category, Scope: check.ScopeAudit,
		Rationale:   "A privileged container, host namespaces or a hostPath volume give a pod its node: from there every pod's Secrets on the node and the kubelet's credentials are reachable.",
		Remediation: "Check the creator; enforce the baseline or restricted Pod Security Standard on the namespace.",
		DocURL:      "https://kubernetes.io/docs/concepts/security/pod-security-standards/",
	}
	LogTokenReuse = check.Check{
		ID: "audit-log-token-reuse", Title: "A bound ServiceAccount token used from several addresses", Severity: finding.High, Category: Category, Scope: check.ScopeAudit,
		Rationale:   "A bound token belongs to one pod, which has one address; the same credential ID seen from several addresses means the token was copied out of its pod.",
		Remediation: "Delete the pod the token was bound to (which invalidates the token) and find where it was copied to.",
		DocURL:      "https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#bound-service-account-tokens",
	}
)

// LogUnusual is the learned baseline's detection.
var LogUnusual = check.Check{
	ID: "audit-log-unusual-request", Title: "A node or ServiceAccount made a kind of request it had not made before", Severity: finding.Medium, Category: Category, Scope: check.ScopeAudit,
	Rationale:   "Nodes and ServiceAccounts do the same few things over and over; once their routine is learned, a new kind of request (a verb on a resource, in their own namespace, another one or the whole cluster) is what a stolen credential looks like.",
	Remediation: "Check whether the workload or node changed; if not, treat the credential as stolen.",
	DocURL:      "https://kubernetes.io/docs/tasks/debug/debug-cluster/audit/",
}

// LogChecks lists the log detections, for reports.
var LogChecks = []check.Check{LogExec, LogSecretHarvest, LogAnonymous, LogEscalationDenied, LogClusterAdminGrant, LogPrivilegedPod, LogTokenReuse, LogUnusual}

// DetectOptions tune the detections.
type DetectOptions struct {
	// SecretReads distinct Secrets read by one identity within
	// SecretWindow make a harvest; 10 and 10 minutes when zero.
	SecretReads  int
	SecretWindow time.Duration
	// Routine are more identities (user names; a trailing * matches a
	// prefix) whose Secret reads and pod creations are routine, beside
	// the control plane's own.
	Routine []string
	// Learn is how long, from its first request, a node's or
	// ServiceAccount's requests are taken as its routine; a kind of request
	// first made later is unusual. One hour when zero; negative turns the
	// detection off.
	Learn time.Duration
}

// maxIDs bounds the audit IDs and addresses a finding lists.
const (
	maxIDs   = 10
	maxAddrs = 8
)

// Detector runs the log detections over events, keeping state across
// them. Its memory grows with the identities, pods and tokens seen, not
// with the number of events.
type Detector struct {
	opts    DetectOptions
	groups  map[groupKey]*group
	order   []*group
	secrets map[string]*secretWindow
	tokens  map[string]*group
	learned map[string]*routineSet
}

// routineSet is what one identity was seen doing while it was learned.
type routineSet struct {
	since time.Time
	kinds map[string]bool
	// secrets are the scopes (a namespace; "" for the cluster) whose
	// Secrets a ServiceAccount read while it was learned.
	secrets map[string]bool
}

// routineOf is the learned routine of the identity name, begun at t when
// it is new.
func (d *Detector) routineOf(name string, t time.Time) *routineSet {
	rs := d.learned[name]
	if rs == nil {
		rs = &routineSet{since: t, kinds: map[string]bool{}, secrets: map[string]bool{}}
		d.learned[name] = rs
	}
	return rs
}

type groupKey struct{ check, key string }

// group is the evidence of one finding: the events that make it.
type group struct {
	check    check.Check
	severity finding.Severity
	object   finding.ObjectRef
	loc      finding.Location
	user     string
	verbs    []string
	what     []string
	addrs    []string
	ids      []string
	count    int
	first    time.Time
	last     time.Time
	reason   string
	// allowed counts the requests that succeeded, for detections whose
	// severity depends on it.
	allowed int
	// secrets are the Secrets a harvest read, for its reason.
	secrets *secretNames
}

// secretNames are the distinct Secrets of a harvest: the first maxNamed
// are named, the others counted. Distinct names are remembered up to
// maxTracked, past which every read counts as another Secret, so that a
// harvest of a million names cannot hold a million strings.
type secretNames struct {
	unit  string // what a name is, for the reason: Secret, namespace
	names []string
	seen  map[string]bool
	more  int
}

const (
	maxNamed   = 20
	maxTracked = 4096
)

func (n *secretNames) add(name string) {
	if n.seen[name] {
		return
	}
	if len(n.seen) < maxTracked {
		n.seen[name] = true
	}
	if len(n.names) < maxNamed {
		n.names = append(n.names, name)
		return
	}
	n.more++
}

func (n *secretNames) count() int { return len(n.names) + n.more }

// String lists the names, and how many more there are.
func (n *secretNames) String() string {
	s := strings.Join(n.names, ", ")
	if n.more > 0 {
		s += fmt.Sprintf(" and %d more", n.more)
	}
	return s
}

type secretWindow struct {
	last    map[string]secretRead
	flagged *group
	// event is the audit ID of the last request counted in flagged.
	event string
}

// secretRead is the last read of one Secret in a window.
type secretRead struct {
	at  time.Time
	id  string
	ip  string
	loc finding.Location
}

// NewDetector returns a detector with opts.
func NewDetector(opts DetectOptions) *Detector {
	if opts.SecretReads <= 0 {
		opts.SecretReads = 10
	}
	if opts.SecretWindow <= 0 {
		opts.SecretWindow = 10 * time.Minute
	}
	if opts.Learn == 0 {
		opts.Learn = time.Hour
	}
	return &Detector{opts: opts, groups: map[groupKey]*group{}, secrets: map[string]*secretWindow{}, tokens: map[string]*group{}, learned: map[string]*routineSet{}}
}

// routine reports whether an identity is the control plane's own, or one
// the options call routine: its Secret reads and pod creations are its job.
func (d *Detector) routine(u *UserInfo) bool {
	n := u.Username
	switch n {
	case "system:kube-controller-manager", "system:kube-scheduler", "system:apiserver", "system:kube-proxy":
		return true
	}
	if strings.HasPrefix(n, "system:node:") || strings.HasPrefix(n, "system:serviceaccount:kube-system:") {
		return true
	}
	for _, r := range d.opts.Routine {
		if p, ok := strings.CutSuffix(r, "*"); ok && strings.HasPrefix(n, p) || r == n {
			return true
		}
	}
	return false
}

// add records e as evidence of the finding (c, key), creating it with
// make when it is new, and returns it.
func (d *Detector) add(c check.Check, key string, e *Event, what string) *group {
	k := groupKey{c.ID, key}
	g := d.groups[k]
	if g == nil {
		g = &group{check: c, severity: c.Severity, loc: e.Location, user: e.Identity().Username, first: e.Received}
		if e.Object != nil {
			g.object = finding.ObjectRef{Kind: resourceName(e), Namespace: e.Object.Namespace, Name: e.Object.Name}
		}
		d.groups[k] = g
		d.order = append(d.order, g)
	}
	g.count++
	if len(g.ids) < maxIDs && !slices.Contains(g.ids, e.AuditID) {
		g.ids = append(g.ids, e.AuditID)
	}
	if ip := e.SourceIP(); ip != "" && !slices.Contains(g.addrs, ip) && len(g.addrs) < maxAddrs {
		g.addrs = append(g.addrs, ip)
	}
	if !slices.Contains(g.verbs, e.Verb) && len(g.verbs) < maxIDs {
		g.verbs = append(g.verbs, e.Verb)
	}
	if what != "" && !slices.Contains(g.what, what) && len(g.what) < maxIDs {
		g.what = append(g.what, what)
	}
	t := e.Received
	if t.IsZero() {
		t = e.Timestamp
	}
	if g.first.IsZero() || t.Before(g.first) {
		g.first = t
	}
	if t.After(g.last) {
		g.last = t
	}
	return g
}

// kubeletExec reads a request through the API server's node proxy
// (/api/v1/nodes/NODE/proxy/PATH, NODE possibly with a port) to one of the
// kubelet's container endpoints: /exec, /run and /attach take
// NAMESPACE/POD/[UID/]CONTAINER, /portForward NAMESPACE/POD[/UID]. It
// returns the endpoint and namespace/pod.
func kubeletExec(uri string) (op, pod string, ok bool) {
	path, _, _ := strings.Cut(uri, "?")
	_, rest, found := strings.Cut(path, "/proxy/")
	if !found {
		return "", "", false
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	switch parts[0] {
	case "exec", "run", "attach", "portForward":
	default:
		return "", "", false
	}
	if len(parts) < 3 || parts[1] == "" || parts[2] == "" {
		return parts[0], "(pod not named)", true
	}
	return parts[0], parts[1] + "/" + parts[2], true
}

func resourceName(e *Event) string {
	_, r, s := e.Resource()
	if s != "" {
		return r + "/" + s
	}
	return r
}

func target(e *Event) string {
	if e.Object == nil {
		return e.URI
	}
	s := resourceName(e)
	if e.Object.APIGroup != "" {
		s += "." + e.Object.APIGroup
	}
	switch {
	case e.Object.Namespace != "" && e.Object.Name != "":
		return s + " " + e.Object.Namespace + "/" + e.Object.Name
	case e.Object.Name != "":
		return s + " " + e.Object.Name
	case e.Object.Namespace != "":
		return s + " in " + e.Object.Namespace
	}
	return s + " in all namespaces"
}

// Handle runs the detections on one event.
func (d *Detector) Handle(e *Event) {
	// One request is one event at ResponseComplete (or Panic); the other
	// stages repeat it.
	if e.Stage != StageResponseComplete && e.Stage != StagePanic {
		return
	}
	id := e.Identity()
	group, resource, sub := e.Resource()
	core := group == "" && e.Object != nil
	rbacWrite := group == "rbac.authorization.k8s.io" && isWrite(e.Verb)
	switch {
	case core && resource == "pods" && (sub == "exec" || sub == "attach" || sub == "portforward"),
		core && resource == "pods" && sub == "ephemeralcontainers" && (e.Verb == "update" || e.Verb == "patch"):
		key := id.Username + "\x00" + e.Object.Namespace + "/" + e.Object.Name + "\x00" + sub
		g := d.add(LogExec, key, e, target(e))
		g.reason = fmt.Sprintf("%s used pods/%s on %s/%s", id.Username, sub, e.Object.Namespace, e.Object.Name)
		if e.Succeeded() {
			g.allowed++
		}
	case core && resource == "nodes" && sub == "proxy" && (e.Verb == "create" || e.Verb == "get"):
		if op, pod, ok := kubeletExec(e.URI); ok {
			key := id.Username + "\x00" + pod + "\x00" + op + "\x00node " + e.Object.Name
			g := d.add(LogExec, key, e, "nodes/proxy "+e.Object.Name+" "+op+" "+pod)
			g.object = finding.ObjectRef{Kind: "nodes/proxy", Name: e.Object.Name}
			g.reason = fmt.Sprintf("%s used %s on %s through the kubelet of node %s (nodes/proxy), where neither pods/exec RBAC nor a pods/exec audit rule applies", id.Username, op, pod, e.Object.Name)
			if e.Succeeded() {
				g.allowed++
			}
		}
	}
	if core && resource == "secrets" && sub == "" && (e.Verb == "get" || e.Verb == "list" || e.Verb == "watch") && e.Succeeded() && !d.routine(id) {
		d.secretRead(e, id)
	}
	if anonymous(id) && !publicPath(e) {
		g := d.add(LogAnonymous, e.SourceIP(), e, target(e))
		g.object = finding.ObjectRef{Kind: "SourceAddress", Name: e.SourceIP()}
		g.reason = fmt.Sprintf("anonymous requests from %s to non-public endpoints", e.SourceIP())
		if e.Succeeded() {
			g.allowed++
		}
	}
	if e.Denied() && (e.Verb == "bind" || e.Verb == "escalate" || e.Verb == "impersonate" || rbacWrite ||
		(e.Status != nil && strings.Contains(e.Status.Message, "cannot impersonate"))) {
		g := d.add(LogEscalationDenied, e.User.Username, e, e.Verb+" "+target(e))
		g.object = finding.ObjectRef{Kind: "User", Name: e.User.Username}
		g.reason = fmt.Sprintf("%s was refused privilege-escalating requests", e.User.Username)
	}
	// The API server's own bootstrap writes cluster-admin and its binding
	// on every start.
	if e.Succeeded() && (e.Verb == "create" || e.Verb == "update" || e.Verb == "patch") && id.Username != "system:apiserver" {
		switch {
		case group == "rbac.authorization.k8s.io" && (resource == "clusterrolebindings" || resource == "rolebindings") && sub == "":
			d.bindingGrant(e)
		case group == "rbac.authorization.k8s.io" && (resource == "clusterroles" || resource == "roles") && sub == "":
			d.roleGrant(e)
		case sub == "" && podTemplateResource(group, resource) && !d.routine(id):
			d.podCreated(e)
		}
	}
	// Nodes are routine readers of Secrets, but have a routine to keep.
	if d.opts.Learn > 0 && (!d.routine(id) || strings.HasPrefix(id.Username, "system:node:")) {
		d.unusual(e, id)
	}
	if cred := first(id.Extra.CredentialID); cred != "" && strings.HasPrefix(id.Username, "system:serviceaccount:") {
		d.tokenUse(e, id, cred)
	}
}

// unusual learns what nodes and ServiceAccounts do during their first
// Learn, and reports a kind of request first made after it. A kind is the
// verb, the group, resource and subresource, and the scope: for a
// ServiceAccount its own namespace, another or the cluster; for a node
// namespaced or the cluster.
func (d *Detector) unusual(e *Event, id *UserInfo) {
	name := id.Username
	var scope string
	switch {
	case strings.HasPrefix(name, "system:node:"):
		scope = "namespaced"
		if e.Object == nil || e.Object.Namespace == "" {
			scope = "cluster"
		}
	case strings.HasPrefix(name, "system:serviceaccount:"):
		own, _, _ := strings.Cut(strings.TrimPrefix(name, "system:serviceaccount:"), ":")
		switch {
		case e.Object == nil || e.Object.Namespace == "":
			scope = "cluster"
		case e.Object.Namespace == own:
			scope = "its own namespace"
		default:
			scope = "namespace " + e.Object.Namespace
		}
	default:
		return
	}
	group, resource, sub := e.Resource()
	what := resource
	if sub != "" {
		what += "/" + sub
	}
	if group != "" {
		what += "." + group
	}
	if e.Object == nil {
		what, _, _ = strings.Cut(e.URI, "?")
	}
	kind := e.Verb + " " + what + " in " + scope
	rs := d.routineOf(name, e.Received)
	if rs.kinds[kind] {
		return
	}
	if e.Received.Sub(rs.since) < d.opts.Learn {
		// Still learning; the kinds an identity has are few, and bounded
		// by the verbs and resources there are.
		rs.kinds[kind] = true
		return
	}
	g := d.add(LogUnusual, name, e, kind)
	g.object = finding.ObjectRef{Kind: "User", Name: name}
	g.reason = fmt.Sprintf("%s made kinds of request it had not made in its first %s", name, d.opts.Learn)
}

func isWrite(verb string) bool {
	switch verb {
	case "create", "update", "patch", "delete", "deletecollection":
		return true
	}
	return false
}

func first(v []string) string {
	if len(v) > 0 {
		return v[0]
	}
	return ""
}

func anonymous(u *UserInfo) bool {
	return u.Username == "system:anonymous" || slices.Contains(u.Groups, "system:unauthenticated")
}

// publicPath reports whether a request is to an endpoint the API server
// serves to anonymous clients by default (system:public-info-viewer and
// service-account issuer discovery).
func publicPath(e *Event) bool {
	if e.Object != nil {
		return false
	}
	p, _, _ := strings.Cut(e.URI, "?")
	for _, pub := range []string{"/healthz", "/livez", "/readyz"} {
		if p == pub || strings.HasPrefix(p, pub+"/") {
			return true
		}
	}
	switch p {
	case "/version", "/version/", "/.well-known/openid-configuration", "/openid/v1/jwks":
		return true
	}
	return false
}

// secretRead counts a successful read of Secrets towards a harvest. What
// a harvest is: an identity reading Secrets it does not normally read. A
// person's reads all count. A ServiceAccount's reads of its own
// namespace's Secrets never do: they are a controller's working data
// (argo-cd's repository credentials, cert-manager's keys), and whoever
// runs pods as it there can mount them anyway. Its reads elsewhere count
// unless it read Secrets in the same namespace (or cluster-wide) during its
// learned routine (--learn); a new kind of request is audit-log-unusual-request's.
func (d *Detector) secretRead(e *Event, id *UserInfo) {
	t := e.Received
	ns, name := e.Object.Namespace, e.Object.Name
	if own, ok := strings.CutPrefix(id.Username, "system:serviceaccount:"); ok {
		own, _, _ = strings.Cut(own, ":")
		if ns != "" && ns == own {
			return
		}
		if d.opts.Learn > 0 {
			rs := d.routineOf(id.Username, t)
			if t.Sub(rs.since) < d.opts.Learn {
				rs.secrets[ns] = true
				return
			}
			if rs.secrets[ns] {
				return
			}
		}
	}
	w := d.secrets[id.Username]
	if w == nil {
		w = &secretWindow{last: map[string]secretRead{}}
		d.secrets[id.Username] = w
	}
	if name == "" {
		if ns == "" {
			// Every Secret of the cluster at once.
			g := d.add(LogSecretHarvest, id.Username+"\x00cluster-wide", e, target(e))
			g.object = finding.ObjectRef{Kind: "User", Name: id.Username}
			g.reason = fmt.Sprintf("%s read the Secrets of every namespace (%s)", id.Username, e.Verb)
			return
		}
		names, ok := listedSecrets(e)
		if !ok {
			// A list or watch returns every Secret of the namespace, data
			// included; without the response in the log, that is all
			// that is known.
			g := d.add(LogSecretHarvest, id.Username+"\x00namespaces", e, "")
			g.object = finding.ObjectRef{Kind: "User", Name: id.Username}
			if g.secrets == nil {
				g.secrets = &secretNames{unit: "namespace", seen: map[string]bool{}}
			}
			g.secrets.add(ns)
			g.reason = fmt.Sprintf("%s read every Secret of a namespace at once (%s; the log does not record the response, so how many is unknown)", id.Username, e.Verb)
			return
		}
		for _, n := range names {
			d.countSecret(w, e, id, ns+"/"+n)
		}
		return
	}
	d.countSecret(w, e, id, ns+"/"+name)
}

// listedSecrets are the names of the Secrets a list returned, when the
// log holds its response. A Table or metadata-only list (kubectl get
// secrets asks for a Table) returns no Secret's data: none. ok is false
// when the response is not in the log.
func listedSecrets(e *Event) (names []string, ok bool) {
	_, resp := e.bodies()
	if len(resp) == 0 {
		return nil, false
	}
	var l struct {
		Kind  string `json:"kind"`
		Items []struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		} `json:"items"`
	}
	if jsonv2.Unmarshal(resp, &l) != nil {
		return nil, false
	}
	if l.Kind != "SecretList" {
		return nil, true
	}
	for _, it := range l.Items {
		if it.Metadata.Name != "" {
			names = append(names, it.Metadata.Name)
		}
	}
	return names, true
}

// countSecret counts one Secret (namespace/name) read by id in e: past
// SecretReads distinct ones within SecretWindow, the reads are a harvest.
func (d *Detector) countSecret(w *secretWindow, e *Event, id *UserInfo, key string) {
	t := e.Received
	if g := w.flagged; g != nil {
		if t.Sub(g.last) <= d.opts.SecretWindow {
			if w.event != e.AuditID || e.AuditID == "" {
				// One request, however many Secrets a list returned.
				d.add(LogSecretHarvest, id.Username+"\x00reads", e, "")
				w.event = e.AuditID
			}
			g.secrets.add(key)
			return
		}
		w.flagged = nil
	}
	w.last[key] = secretRead{at: t, id: e.AuditID, ip: e.SourceIP(), loc: e.Location}
	if len(w.last) < d.opts.SecretReads {
		return
	}
	for k, r := range w.last {
		if t.Sub(r.at) > d.opts.SecretWindow {
			delete(w.last, k)
		}
	}
	if len(w.last) < d.opts.SecretReads {
		return
	}
	// The evidence is the window's reads, earliest first.
	type named struct {
		key string
		secretRead
	}
	reads := make([]named, 0, len(w.last))
	for k, r := range w.last {
		reads = append(reads, named{k, r})
	}
	slices.SortFunc(reads, func(a, b named) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.loc.Line, b.loc.Line), strings.Compare(a.key, b.key))
	})
	fresh := d.groups[groupKey{LogSecretHarvest.ID, id.Username + "\x00reads"}] == nil
	g := d.add(LogSecretHarvest, id.Username+"\x00reads", e, "")
	g.object = finding.ObjectRef{Kind: "User", Name: id.Username}
	g.reason = fmt.Sprintf("%s read %d or more distinct Secrets within %s", id.Username, d.opts.SecretReads, d.opts.SecretWindow)
	if fresh {
		// The finding starts at the window's first read, not at the
		// read that crossed the threshold.
		g.count, g.ids, g.first, g.loc = 0, g.ids[:0], reads[0].at, reads[0].loc
		g.secrets = &secretNames{unit: "Secret", seen: map[string]bool{}}
	} else {
		g.count-- // the read that crossed the threshold is among reads
	}
	// The window's reads are of fewer requests when a list returned
	// several: count the requests.
	events := make(map[string]bool, len(reads))
	for _, r := range reads {
		if !events[r.id] || r.id == "" {
			events[r.id] = true
			g.count++
		}
		g.secrets.add(r.key)
		if len(g.ids) < maxIDs && !slices.Contains(g.ids, r.id) {
			g.ids = append(g.ids, r.id)
		}
		if r.ip != "" && !slices.Contains(g.addrs, r.ip) && len(g.addrs) < maxAddrs {
			g.addrs = append(g.addrs, r.ip)
		}
	}
	w.flagged, w.event = g, e.AuditID
	clear(w.last)
}

// binding is the part of a (Cluster)RoleBinding the detections read.
type binding struct {
	RoleRef struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	} `json:"roleRef"`
	Subjects []struct {
		Kind      string `json:"kind"`
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"subjects"`
}

func (d *Detector) bindingGrant(e *Event) {
	var b binding
	req, resp := e.bodies()
	if jsonv2.Unmarshal(req, &b) != nil || b.RoleRef.Name == "" {
		// A patch's body is the patch; the response holds the binding.
		b = binding{}
		jsonv2.Unmarshal(resp, &b)
	}
	if b.RoleRef.Name == "" && e.Object.Name == "cluster-admin" {
		b.RoleRef.Kind, b.RoleRef.Name = "ClusterRole", "cluster-admin"
	}
	if b.RoleRef.Kind != "ClusterRole" || b.RoleRef.Name != "cluster-admin" {
		return
	}
	var subjects []string
	for _, s := range b.Subjects {
		n := s.Kind + " " + s.Name
		if s.Namespace != "" {
			n = s.Kind + " " + s.Namespace + "/" + s.Name
		}
		subjects = append(subjects, n)
	}
	g := d.add(LogClusterAdminGrant, e.AuditID, e, e.Verb+" "+target(e))
	who := orUnknown(strings.Join(subjects, ", "))
	if ns := e.Object.Namespace; ns != "" {
		var power string
		g.severity, power = namespaceAdmin(ns)
		g.reason = fmt.Sprintf("%s bound cluster-admin in namespace %s to %s: %s", e.Identity().Username, ns, who, power)
		return
	}
	g.reason = fmt.Sprintf("%s bound cluster-admin cluster-wide to %s: every verb on every resource of the cluster", e.Identity().Username, who)
}

// namespaceAdmin is the severity and the power of every verb on every
// resource of one namespace, which is what cluster-admin bound by a
// RoleBinding, or a Role allowing everything, grants: that namespace's
// Secrets, pods (and so the tokens of its ServiceAccounts), roles and
// bindings, but nothing cluster-scoped and no other namespace. In
// kube-system that reaches the cluster: the controllers' ServiceAccounts
// there (the clusterrole-aggregation controller's may escalate any
// ClusterRole) run pods the grantee can now create.
func namespaceAdmin(ns string) (finding.Severity, string) {
	if ns == "kube-system" {
		return finding.Critical, "every verb on every resource of kube-system, whose controllers' ServiceAccounts hold cluster-wide power: the cluster"
	}
	return finding.High, fmt.Sprintf("every verb on every resource of namespace %s (its Secrets, pods and ServiceAccounts, roles and bindings), not the cluster", ns)
}

func orUnknown(s string) string {
	if s == "" {
		return "subjects the log does not record (level Metadata)"
	}
	return s
}

func (d *Detector) roleGrant(e *Event) {
	var r struct {
		Rules []struct {
			APIGroups []string `json:"apiGroups"`
			Resources []string `json:"resources"`
			Verbs     []string `json:"verbs"`
		} `json:"rules"`
	}
	if !e.Body(&r) {
		return
	}
	for _, rule := range r.Rules {
		if slices.Contains(rule.APIGroups, "*") && slices.Contains(rule.Resources, "*") && slices.Contains(rule.Verbs, "*") {
			g := d.add(LogClusterAdminGrant, e.AuditID, e, e.Verb+" "+target(e))
			if ns := e.Object.Namespace; ns != "" {
				var power string
				g.severity, power = namespaceAdmin(ns)
				g.reason = fmt.Sprintf("%s wrote %s allowing %s", e.Identity().Username, target(e), power)
				return
			}
			g.reason = fmt.Sprintf("%s wrote %s allowing every verb on every resource", e.Identity().Username, target(e))
			return
		}
	}
}

func podTemplateResource(group, resource string) bool {
	switch {
	case group == "" && (resource == "pods" || resource == "replicationcontrollers" || resource == "podtemplates"):
		return true
	case group == "apps" && (resource == "deployments" || resource == "daemonsets" || resource == "statefulsets" || resource == "replicasets"):
		return true
	case group == "batch" && (resource == "jobs" || resource == "cronjobs"):
		return true
	}
	return false
}

// podSpec is the part of a pod spec the detections read.
type podSpec struct {
	HostNetwork bool `json:"hostNetwork"`
	HostPID     bool `json:"hostPID"`
	HostIPC     bool `json:"hostIPC"`
	Containers  []struct {
		Name            string `json:"name"`
		SecurityContext *struct {
			Privileged *bool `json:"privileged"`
		} `json:"securityContext"`
	} `json:"containers"`
	InitContainers []struct {
		Name            string `json:"name"`
		SecurityContext *struct {
			Privileged *bool `json:"privileged"`
		} `json:"securityContext"`
	} `json:"initContainers"`
	Volumes []struct {
		Name     string    `json:"name"`
		HostPath *struct{} `json:"hostPath"`
	} `json:"volumes"`
}

func (d *Detector) podCreated(e *Event) {
	var o struct {
		Spec struct {
			podSpec
			Template struct {
				Spec podSpec `json:"spec"`
			} `json:"template"`
			JobTemplate struct {
				Spec struct {
					Template struct {
						Spec podSpec `json:"spec"`
					} `json:"template"`
				} `json:"spec"`
			} `json:"jobTemplate"`
		} `json:"spec"`
	}
	if !e.Body(&o) {
		return
	}
	var why []string
	for _, s := range []*podSpec{&o.Spec.podSpec, &o.Spec.Template.Spec, &o.Spec.JobTemplate.Spec.Template.Spec} {
		if s.HostNetwork {
			why = append(why, "hostNetwork")
		}
		if s.HostPID {
			why = append(why, "hostPID")
		}
		if s.HostIPC {
			why = append(why, "hostIPC")
		}
		for _, c := range s.Containers {
			if c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged {
				why = append(why, "privileged container "+c.Name)
			}
		}
		for _, c := range s.InitContainers {
			if c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged {
				why = append(why, "privileged init container "+c.Name)
			}
		}
		for _, v := range s.Volumes {
			if v.HostPath != nil {
				why = append(why, "hostPath volume "+v.Name)
			}
		}
	}
	if len(why) == 0 {
		return
	}
	g := d.add(LogPrivilegedPod, e.AuditID, e, e.Verb+" "+target(e))
	g.reason = fmt.Sprintf("%s created %s with %s", e.Identity().Username, target(e), strings.Join(why, ", "))
}

func (d *Detector) tokenUse(e *Event, id *UserInfo, cred string) {
	g := d.tokens[cred]
	if g == nil {
		g = &group{check: LogTokenReuse, severity: LogTokenReuse.Severity, loc: e.Location, user: id.Username,
			object: finding.ObjectRef{Kind: "ServiceAccount", Name: id.Username}, first: e.Received}
		d.tokens[cred] = g
	}
	g.count++
	if e.Received.After(g.last) {
		g.last = e.Received
	}
	ip := e.SourceIP()
	if ip == "" || slices.Contains(g.addrs, ip) || len(g.addrs) >= maxAddrs {
		return
	}
	// The first request from each address is the evidence.
	g.addrs = append(g.addrs, ip)
	if len(g.ids) < maxIDs {
		g.ids = append(g.ids, e.AuditID)
	}
	if len(g.addrs) == 2 {
		g.loc = e.Location
		d.order = append(d.order, g)
	}
	pod := first(id.Extra.PodName)
	g.reason = fmt.Sprintf("the bound token %s of %s (pod %s) was used from %d addresses", cred, id.Username, orNone(pod), len(g.addrs))
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Findings returns the findings, in the order their first event came.
func (d *Detector) Findings() []finding.Finding {
	var out []finding.Finding
	for _, g := range d.order {
		sev, reason := g.severity, g.reason
		switch g.check.ID {
		case LogExec.ID:
			if g.allowed == 0 {
				sev, reason = finding.Medium, reason+" (none succeeded)"
			}
		case LogAnonymous.ID:
			if g.allowed > 0 {
				sev, reason = finding.High, fmt.Sprintf("%s; %d of them allowed", reason, g.allowed)
			}
		}
		if g.secrets != nil {
			n := g.secrets.count()
			unit := g.secrets.unit
			if n != 1 {
				unit += "s"
			}
			reason = fmt.Sprintf("%s; %d %s: %s", reason, n, unit, g.secrets)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "user %s", g.user)
		if len(g.addrs) > 0 {
			fmt.Fprintf(&b, " from %s", strings.Join(g.addrs, ", "))
		}
		if len(g.what) > 0 {
			fmt.Fprintf(&b, "; %s", strings.Join(g.what, "; "))
		} else if len(g.verbs) > 0 {
			fmt.Fprintf(&b, "; verbs %s", strings.Join(g.verbs, ", "))
		}
		fmt.Fprintf(&b, "; %d request%s from %s to %s; audit IDs %s", g.count, plural(g.count),
			g.first.UTC().Format(time.RFC3339), g.last.UTC().Format(time.RFC3339), strings.Join(g.ids, ", "))
		if g.count > len(g.ids) {
			fmt.Fprintf(&b, " (first %d)", len(g.ids))
		}
		out = append(out, finding.Finding{
			CheckID: g.check.ID, Title: g.check.Title, Severity: sev, Category: g.check.Category,
			Object: g.object, Location: g.loc, Reason: reason, Detail: b.String(),
			Remediation: g.check.Remediation, DocURL: g.check.DocURL,
		})
	}
	slices.SortStableFunc(out, func(a, b finding.Finding) int {
		if c := strings.Compare(a.Location.File, b.Location.File); c != 0 {
			return c
		}
		return cmp.Compare(a.Location.Line, b.Location.Line)
	})
	return out
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
