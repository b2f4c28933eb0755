package rbac

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/kubeguard/kubeguard/internal/fileset"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
	rbacv1 "k8s.io/api/rbac/v1"
)

// Kinds and labels the analysis knows.
const (
	KindRole               = "Role"
	KindClusterRole        = "ClusterRole"
	KindRoleBinding        = "RoleBinding"
	KindClusterRoleBinding = "ClusterRoleBinding"

	// BootstrapLabel marks the API server's built-in roles and bindings
	// (value rbac-defaults).
	BootstrapLabel = "kubernetes.io/bootstrapping"
	bootstrapValue = "rbac-defaults"

	rbacGroup = "rbac.authorization.k8s.io"
	// DefaultNamespace is the namespace of namespaced objects that name
	// none, as kubectl apply without -n would place them.
	DefaultNamespace = "default"
)

// Role is a Role or a ClusterRole with its effective rules.
type Role struct {
	Kind      string
	Namespace string // empty for a ClusterRole
	Name      string
	Labels    map[string]string
	// Rules are the effective rules: for an aggregated ClusterRole, those
	// the aggregation controller would write, whatever the manifest holds.
	Rules []rbacv1.PolicyRule
	// Sources says, for each rule, which role writes it in its own rules
	// field: the role itself, or for aggregated rules the role aggregated.
	Sources     []RuleSource
	Aggregation *rbacv1.AggregationRule
	// Default marks the API server's built-in roles.
	Default bool
	// Origin is where the role was read; nil when built from typed values.
	Origin *Origin

	ruleKeys []string // ruleKey of each rule, for aggregation
}

// RuleSource is one rule as written in a role's rules field.
type RuleSource struct {
	Role  *Role
	Index int
}

// Location is where the rule is written, when the role was read from a file.
func (s RuleSource) Location() (finding.Location, bool) {
	if s.Role == nil || s.Role.Origin == nil {
		return finding.Location{}, false
	}
	return s.Role.Origin.Locate(rulePath(s.Index)), true
}

// Ref names the role as kind/namespace/name.
func (r *Role) Ref() string { return ref(r.Kind, r.Namespace, r.Name) }

// ObjectRef is the role's object reference, as findings name it.
func (r *Role) ObjectRef() finding.ObjectRef {
	return objectRef(r.Origin, r.Kind, r.Namespace, r.Name)
}

func objectRef(o *Origin, kind, ns, name string) finding.ObjectRef {
	if o != nil {
		return o.Ref
	}
	return finding.ObjectRef{APIVersion: rbacGroup + "/v1", Kind: kind, Namespace: ns, Name: name}
}

// Aggregated reports whether the role's rules come from aggregation.
func (r *Role) Aggregated() bool { return r.Aggregation != nil }

// Binding is a RoleBinding or a ClusterRoleBinding.
type Binding struct {
	Kind      string
	Namespace string // empty for a ClusterRoleBinding
	Name      string
	Labels    map[string]string
	RoleRef   rbacv1.RoleRef
	Subjects  []rbacv1.Subject
	Default   bool
	// Origin is where the binding was read; nil when built from typed
	// values.
	Origin *Origin

	role *Role
	seq  int // authorizer visiting order: ClusterRoleBindings, then RoleBindings
	// refused says the API server would refuse the binding (an input
	// error says why): it never exists, so no risk is reported of it.
	refused bool
}

// Role is the role the binding grants, nil when it does not resolve.
func (b *Binding) Role() *Role { return b.role }

// ObjectRef is the binding's object reference, as findings name it.
func (b *Binding) ObjectRef() finding.ObjectRef {
	return objectRef(b.Origin, b.Kind, b.Namespace, b.Name)
}

// Cluster reports whether the binding is a ClusterRoleBinding.
func (b *Binding) Cluster() bool { return b.Kind == KindClusterRoleBinding }

// Ref names the binding as kind/namespace/name.
func (b *Binding) Ref() string { return ref(b.Kind, b.Namespace, b.Name) }

// Identity is the identity subject i names, ok false when it names no one.
func (b *Binding) Identity(i int) (Identity, bool) {
	return subjectIdentity(b.Subjects[i], b.Namespace)
}

// RoleRefString names the referenced role.
func (b *Binding) RoleRefString() string {
	if b.RoleRef.Kind == KindRole {
		return ref(b.RoleRef.Kind, b.Namespace, b.RoleRef.Name)
	}
	return ref(b.RoleRef.Kind, "", b.RoleRef.Name)
}

func ref(kind, ns, name string) string {
	if ns == "" {
		return kind + "/" + name
	}
	return kind + "/" + ns + "/" + name
}

// ServiceAccount is a ServiceAccount of the input.
type ServiceAccount struct {
	Namespace, Name string
	// Automount is automountServiceAccountToken, nil when unset.
	Automount *bool
	Origin    *Origin
}

// TokenSecret is a legacy long-lived token Secret (type
// kubernetes.io/service-account-token). Only its metadata is read.
type TokenSecret struct {
	Namespace, Name, ServiceAccount string
	Origin                          *Origin
}

// Workload is a Pod or an object with a pod template.
type Workload struct {
	Namespace      string
	ServiceAccount string
	NodeName       string
	// NodeSelector is the pod spec's nodeSelector.
	NodeSelector map[string]string
	// Automount is the pod's automountServiceAccountToken, nil when unset.
	Automount *bool
	// SpecPath is the pod spec's path in the object.
	SpecPath object.Path
	Origin   *Origin
}

// identity is the ServiceAccount the workload's pods run as.
func (w *Workload) identity() Identity {
	return Identity{Kind: rbacv1.ServiceAccountKind, Namespace: w.Namespace, Name: w.ServiceAccount}
}

// Policy is the RBAC state of a cluster as described by the input, with
// aggregation computed, and an index for authorization.
type Policy struct {
	ClusterRoles map[string]*Role
	Roles        map[string]*Role // namespace/name
	// Bindings are ClusterRoleBindings by name, then RoleBindings by
	// namespace and name.
	Bindings        []*Binding
	ServiceAccounts []*ServiceAccount
	TokenSecrets    []*TokenSecret
	Workloads       []*Workload
	// Namespaces are the namespaces the input names, sorted.
	Namespaces []string
	// Problems are objects the API server would reject or that could not
	// be read.
	Problems []finding.InputError
	// Warnings are legal but doubtful input: an object defined twice, an
	// aggregation that never settles.
	Warnings []finding.InputError
	// DefaultsLoaded says whether the built-in roles are part of the policy.
	DefaultsLoaded bool
	// PodSecurity is the Pod Security level each Namespace object of the
	// input enforces (label pod-security.kubernetes.io/enforce), "" when
	// it carries no such label.
	PodSecurity map[string]string

	scopes  map[string]bool // group/resource -> namespaced, from CRDs
	byUser  map[string][]subjectRef
	byGroup map[string][]subjectRef
}

// subjectRef is subject i of binding b.
type subjectRef struct {
	b *Binding
	i int
}

// Input is RBAC objects as typed values, for callers that hold them so
// (a live cluster, a differential test) rather than as manifests.
type Input struct {
	Roles               []rbacv1.Role
	ClusterRoles        []rbacv1.ClusterRole
	RoleBindings        []rbacv1.RoleBinding
	ClusterRoleBindings []rbacv1.ClusterRoleBinding
}

// NewPolicy builds a policy from typed objects.
func NewPolicy(in Input) *Policy {
	var b Builder
	b.AddInput(in)
	return b.Build()
}

// Builder collects objects into a Policy. Add objects in input order: a
// later object of the same kind and name replaces an earlier one, as
// kubectl apply would.
type Builder struct {
	p          Policy
	namespaces map[string]bool
	// seen is where each name (kind/namespace/name) of the input was
	// defined first and last.
	seen map[string]copyAt
	// carried are the namespaces objects of the input name themselves
	// (Namespace objects included); defaulted counts the namespaced
	// objects that name none.
	carried   map[string]bool
	defaulted int
	// Namespace is the namespace given to namespaced objects that name
	// none (-n), set before adding objects decoded with DecodeIn for it;
	// empty for "default", and then input that looks meant for another
	// namespace is warned about.
	Namespace string

	// The input as read, for Views: the built-in objects, the objects of
	// the files in input order, where each name the analysis reads was
	// defined first and last, and the file sets those copies part.
	defaults []Decoded
	all      [][]Decoded // in chunks of chunk objects
	sets     fileset.Sets
	// view marks the builder of one view's policy, which is one file set.
	view bool
}

func (b *Builder) init() {
	if b.p.ClusterRoles == nil {
		b.p.ClusterRoles = map[string]*Role{}
		b.p.Roles = map[string]*Role{}
		b.p.scopes = map[string]bool{}
		b.namespaces = map[string]bool{}
		b.seen = map[string]copyAt{}
		b.carried = map[string]bool{}
		b.p.PodSecurity = map[string]string{}
	}
}

// AddInput adds typed objects.
func (b *Builder) AddInput(in Input) {
	b.init()
	for i := range in.ClusterRoles {
		r := &in.ClusterRoles[i]
		b.addRole(&Role{Kind: KindClusterRole, Name: r.Name, Labels: r.Labels, Rules: r.Rules, Aggregation: r.AggregationRule})
	}
	for i := range in.Roles {
		r := &in.Roles[i]
		b.addRole(&Role{Kind: KindRole, Namespace: orDefault(r.Namespace), Name: r.Name, Labels: r.Labels, Rules: r.Rules})
	}
	for i := range in.ClusterRoleBindings {
		x := &in.ClusterRoleBindings[i]
		b.addBinding(&Binding{Kind: KindClusterRoleBinding, Name: x.Name, Labels: x.Labels, RoleRef: x.RoleRef, Subjects: x.Subjects})
	}
	for i := range in.RoleBindings {
		x := &in.RoleBindings[i]
		b.addBinding(&Binding{Kind: KindRoleBinding, Namespace: orDefault(x.Namespace), Name: x.Name, Labels: x.Labels, RoleRef: x.RoleRef, Subjects: x.Subjects})
	}
}

func orDefault(ns string) string {
	if ns == "" {
		return DefaultNamespace
	}
	return ns
}

// Decoded is one object of the input, read for the analysis. Decode it on
// any goroutine, then add it to a Builder in input order.
type Decoded struct {
	origin    *Origin // what reports need of the object, which is not kept
	role      *Role
	binding   *Binding
	sa        *ServiceAccount
	secret    *TokenSecret
	workload  *Workload
	namespace string // a namespace the object shows to exist
	// defaulted marks a namespaced object without namespace, which took
	// the default one.
	defaulted bool
	// level is a Namespace object's Pod Security enforce label.
	level    string
	scopeKey string // group/resource of a CustomResourceDefinition
	scoped   bool   // whether that resource is namespaced
	err      error
}

// Decode reads the parts of an object the analysis uses; kinds it does not
// use yield nothing. It is safe for concurrent use.
func Decode(o *object.Object) Decoded { return decode(o, true, "") }

// DecodeIn decodes a manifest as Decode does, a namespaced object without
// namespace taken to be in ns, as kubectl apply -n ns places it (its
// reference is given the namespace); an object in another namespace is an
// error, as kubectl apply -n refuses it. An object the analysis uses is
// held to kubectl apply's strict field validation, as scan holds
// manifests: a binding's misspelt subject field must not read as absent.
func DecodeIn(o *object.Object, ns string) Decoded {
	d := decode(o, true, ns)
	if d.err == nil && d.used() {
		d.err = o.CheckFields()
	}
	return d
}

// used reports whether the analysis uses anything of the object.
func (d *Decoded) used() bool {
	return d.role != nil || d.binding != nil || d.sa != nil || d.secret != nil || d.workload != nil || d.namespace != "" || d.scopeKey != ""
}

// decode reads an object, roles and bindings straight from the tree when
// tree is set and their shape allows (see treeread.go); namespaced objects
// without namespace are in ns ("default" when empty).
func decode(o *object.Object, tree bool, ns string) Decoded {
	d := Decoded{origin: newOrigin(o)}
	if err := d.decode(o, tree, ns); err != nil {
		d.err = err
	}
	return d
}

// Add reads one object of the input; kinds the analysis does not use are
// ignored. Objects that cannot be decoded become problems.
func (b *Builder) Add(o *object.Object) { b.AddDecoded(Decode(o)) }

// AddDecoded adds a decoded object. The builder keeps copies: the same
// Decoded may build several policies.
func (b *Builder) AddDecoded(d Decoded) {
	b.init()
	b.record(d)
	b.add(d)
}

// add adds a decoded object to the policy.
func (b *Builder) add(d Decoded) {
	if d.err != nil {
		b.problem(object.ErrorLocation(d.err, d.origin.Source), fmt.Sprintf("%s: %v", d.origin.Ref, d.err))
		return
	}
	if d.namespace != "" {
		b.namespaces[d.namespace] = true
		if !d.defaulted {
			b.carried[d.namespace] = true
		}
	}
	if d.defaulted {
		b.defaulted++
	}
	if d.origin != nil && d.origin.Ref.Kind == "Namespace" && d.origin.Ref.APIVersion == "v1" {
		b.p.PodSecurity[d.namespace] = d.level
	}
	switch {
	case d.role != nil:
		r := *d.role
		b.addRole(&r)
	case d.binding != nil:
		x := *d.binding
		b.addBinding(&x)
	case d.sa != nil:
		b.p.ServiceAccounts = append(b.p.ServiceAccounts, d.sa)
	case d.secret != nil:
		b.p.TokenSecrets = append(b.p.TokenSecrets, d.secret)
	case d.workload != nil:
		b.p.Workloads = append(b.p.Workloads, d.workload)
	case d.scopeKey != "":
		b.p.scopes[d.scopeKey] = d.scoped
	}
}

func (b *Builder) problem(loc finding.Location, msg string) {
	b.p.Problems = append(b.p.Problems, finding.InputError{Location: loc, Message: msg})
}

func (d *Decoded) decode(o *object.Object, tree bool, defNS string) error {
	group, _, _ := strings.Cut(o.Ref.APIVersion, "/")
	if !strings.Contains(o.Ref.APIVersion, "/") {
		group = ""
	}
	ns := o.Ref.Namespace
	// in is the namespace of a namespaced object.
	in := func() (string, error) {
		switch {
		case ns == "" && defNS == "":
			d.defaulted = true
			return DefaultNamespace, nil
		case ns == "":
			// The object is in ns as kubectl apply -n puts it there: its
			// reference says so in every report.
			d.defaulted = true
			o.Ref.Namespace, d.origin.Ref.Namespace = defNS, defNS
			return defNS, nil
		case defNS != "" && ns != defNS:
			return "", fmt.Errorf("the object's namespace %q does not match the namespace %q given with -n (kubectl apply -n refuses it)", ns, defNS)
		}
		return ns, nil
	}
	switch {
	case group == rbacGroup && (o.Ref.Kind == KindRole || o.Ref.Kind == KindClusterRole):
		var v struct {
			Rules           []rbacv1.PolicyRule     `json:"rules"`
			AggregationRule *rbacv1.AggregationRule `json:"aggregationRule"`
		}
		var ok bool
		if tree {
			v.Rules, ok = readRules(o.Field(object.Path{}))
		}
		if !ok {
			v.Rules = nil
			if err := o.Decode(object.Path{}, &v); err != nil {
				return err
			}
		}
		d.role = &Role{Kind: o.Ref.Kind, Name: o.Ref.Name, Labels: o.Labels, Rules: v.Rules, Origin: d.origin}
		if o.Ref.Kind == KindRole {
			n, err := in()
			if err != nil {
				return err
			}
			d.role.Namespace, d.namespace = n, n
		} else {
			d.role.Aggregation = v.AggregationRule
		}
		d.origin.recordRole(o, d.role)
	case group == rbacGroup && (o.Ref.Kind == KindRoleBinding || o.Ref.Kind == KindClusterRoleBinding):
		var v struct {
			RoleRef  rbacv1.RoleRef   `json:"roleRef"`
			Subjects []rbacv1.Subject `json:"subjects"`
		}
		var ok bool
		if tree {
			v.RoleRef, v.Subjects, ok = readBinding(o.Field(object.Path{}))
		}
		if !ok {
			v.RoleRef, v.Subjects = rbacv1.RoleRef{}, nil
			if err := o.Decode(object.Path{}, &v); err != nil {
				return err
			}
		}
		d.binding = &Binding{Kind: o.Ref.Kind, Name: o.Ref.Name, Labels: o.Labels, RoleRef: v.RoleRef, Subjects: v.Subjects, Origin: d.origin}
		if o.Ref.Kind == KindRoleBinding {
			n, err := in()
			if err != nil {
				return err
			}
			d.binding.Namespace, d.namespace = n, n
		}
		d.origin.recordBinding(o, d.binding)
	case group == "" && o.Ref.Kind == "ServiceAccount":
		var v struct {
			Automount *bool `json:"automountServiceAccountToken"`
		}
		if err := o.Decode(object.Path{}.Key("automountServiceAccountToken"), &v.Automount); err != nil {
			return err
		}
		n, err := in()
		if err != nil {
			return err
		}
		d.sa = &ServiceAccount{Namespace: n, Name: o.Ref.Name, Automount: v.Automount, Origin: d.origin}
		d.namespace = n
	case group == "" && o.Ref.Kind == "Secret":
		// Only the type and the annotations: never the data.
		var typ string
		if err := o.Decode(object.Path{}.Key("type"), &typ); err != nil {
			return err
		}
		n, err := in()
		if err != nil {
			return err
		}
		d.namespace = n
		if typ == "kubernetes.io/service-account-token" {
			d.secret = &TokenSecret{
				Namespace: n, Name: o.Ref.Name,
				ServiceAccount: o.Annotations["kubernetes.io/service-account.name"], Origin: d.origin,
			}
		}
	case group == "" && o.Ref.Kind == "Namespace":
		d.namespace = o.Ref.Name
		d.level = o.Labels["pod-security.kubernetes.io/enforce"]
	case group == "apiextensions.k8s.io" && o.Ref.Kind == "CustomResourceDefinition":
		var v struct {
			Group string `json:"group"`
			Scope string `json:"scope"`
			Names struct {
				Plural string `json:"plural"`
			} `json:"names"`
		}
		if err := o.Decode(object.Path{}.Key("spec"), &v); err != nil {
			return err
		}
		if v.Names.Plural != "" {
			d.scopeKey, d.scoped = v.Group+"/"+v.Names.Plural, v.Scope != "Cluster"
		}
	default:
		p, ok := o.TemplatePath()
		if !ok {
			d.namespace = ns
			return nil
		}
		spec := p.Key("spec")
		var v struct {
			ServiceAccountName string            `json:"serviceAccountName"`
			ServiceAccount     string            `json:"serviceAccount"`
			NodeName           string            `json:"nodeName"`
			NodeSelector       map[string]string `json:"nodeSelector"`
			Automount          *bool             `json:"automountServiceAccountToken"`
		}
		for _, f := range []struct {
			key string
			dst any
		}{{"serviceAccountName", &v.ServiceAccountName}, {"serviceAccount", &v.ServiceAccount}, {"nodeName", &v.NodeName},
			{"nodeSelector", &v.NodeSelector}, {"automountServiceAccountToken", &v.Automount}} {
			if err := o.Decode(spec.Key(f.key), f.dst); err != nil {
				return fmt.Errorf("%s: %w", spec.Key(f.key), err)
			}
		}
		sa := v.ServiceAccountName
		if sa == "" {
			// The deprecated field still sets the ServiceAccount when the
			// new one is empty.
			sa = v.ServiceAccount
		}
		if sa == "" {
			sa = "default"
		}
		n, err := in()
		if err != nil {
			return err
		}
		d.workload = &Workload{
			Namespace: n, ServiceAccount: sa, NodeName: v.NodeName, NodeSelector: v.NodeSelector, Automount: v.Automount, SpecPath: spec, Origin: d.origin,
		}
		d.origin.record(o, d.workload.serviceAccountPath())
		d.namespace = n
	}
	return nil
}

func (b *Builder) dedupe(key string, o *Origin) {
	if o == nil {
		return
	}
	prev := b.see(key, o)
	if prev == nil || prev.Source.File == DefaultsFile {
		return
	}
	b.p.Warnings = append(b.p.Warnings, finding.InputError{Location: o.Source,
		Message: fmt.Sprintf("%s is also defined at %s; this later definition is used", key, prev.Source)})
}

func (b *Builder) addRole(r *Role) {
	r.Default = r.Labels[BootstrapLabel] == bootstrapValue
	r.Sources = make([]RuleSource, len(r.Rules))
	for i := range r.Rules {
		r.Sources[i] = RuleSource{Role: r, Index: i}
	}
	b.dedupe(r.Ref(), r.Origin)
	if r.Origin != nil {
		b.validateRole(r)
	}
	if r.Kind == KindClusterRole {
		b.p.ClusterRoles[r.Name] = r
		return
	}
	b.namespaces[r.Namespace] = true
	b.p.Roles[r.Namespace+"/"+r.Name] = r
}

// validateRole reports what the API server's validation rejects and the
// authorizer would read otherwise than the author meant: non-resource
// URLs in a Role (a RoleBinding never grants them), a rule for both
// resources and URLs, an aggregationRule without selectors.
func (b *Builder) validateRole(r *Role) {
	for i := range r.Rules {
		rule := &r.Rules[i]
		if len(rule.NonResourceURLs) == 0 {
			continue
		}
		loc := r.Origin.Locate(rulePath(i).Key("nonResourceURLs"))
		switch {
		case r.Kind == KindRole:
			b.problem(loc, fmt.Sprintf("%s rules[%d]: a Role cannot grant non-resource URLs; the API server rejects it", r.Ref(), i))
		case len(rule.APIGroups) > 0 || len(rule.Resources) > 0 || len(rule.ResourceNames) > 0:
			b.problem(loc, fmt.Sprintf("%s rules[%d]: a rule cannot grant both resources and non-resource URLs; the API server rejects it", r.Ref(), i))
		}
	}
	if r.Aggregation != nil && len(r.Aggregation.ClusterRoleSelectors) == 0 {
		loc := r.Origin.Locate(aggregationRulePath)
		b.problem(loc, fmt.Sprintf("%s: an aggregationRule needs at least one clusterRoleSelector; the API server rejects it", r.Ref()))
	}
}

func (b *Builder) addBinding(x *Binding) {
	x.Default = x.Labels[BootstrapLabel] == bootstrapValue
	b.dedupe(x.Ref(), x.Origin)
	if x.Namespace != "" {
		b.namespaces[x.Namespace] = true
	}
	for i, s := range x.Subjects {
		if s.Kind == rbacv1.ServiceAccountKind {
			if id, ok := subjectIdentity(s, x.Namespace); ok {
				b.namespaces[id.Namespace] = true
			}
		}
		if x.Origin == nil {
			continue
		}
		loc := func() finding.Location { return x.Origin.Locate(subjectPath(i)) }
		switch s.Kind {
		case rbacv1.UserKind, rbacv1.GroupKind, rbacv1.ServiceAccountKind:
		default:
			x.refused = true
			b.problem(loc(), fmt.Sprintf("%s: subject kind %q is not User, Group or ServiceAccount; it matches no one", x.Ref(), s.Kind))
			continue
		}
		if s.Kind == rbacv1.ServiceAccountKind && s.Namespace == "" && x.Cluster() {
			x.refused = true
			b.problem(loc(), fmt.Sprintf("%s: ServiceAccount subject %q has no namespace; the API server rejects it and it matches no one", x.Ref(), s.Name))
		}
	}
	if x.Origin != nil {
		switch {
		case x.RoleRef.Kind != KindRole && x.RoleRef.Kind != KindClusterRole:
			x.refused = true
			b.problem(x.Origin.Locate(roleRefPath), fmt.Sprintf("%s: roleRef kind %q is not Role or ClusterRole; it grants nothing", x.Ref(), x.RoleRef.Kind))
		case x.Cluster() && x.RoleRef.Kind == KindRole:
			b.problem(x.Origin.Locate(roleRefPath), fmt.Sprintf("%s: a ClusterRoleBinding can only refer to a ClusterRole; it grants nothing", x.Ref()))
		}
	}
	b.p.Bindings = append(b.p.Bindings, x)
}

// Build computes aggregation, resolves bindings and indexes subjects. The
// builder must not be used afterwards.
func (b *Builder) Build() *Policy {
	b.init()
	p := &b.p
	// Aggregation reads and writes roles only; resolving bindings needs
	// the roles' names, not their rules: the two run side by side.
	var wg sync.WaitGroup
	wg.Go(p.aggregate)
	defer wg.Wait()
	// Later definitions replace earlier ones.
	last := map[string]int{}
	for i, x := range p.Bindings {
		last[x.Ref()] = i
	}
	p.Bindings = slices.DeleteFunc(p.Bindings, func(x *Binding) bool { return p.Bindings[last[x.Ref()]] != x })
	slices.SortStableFunc(p.Bindings, func(x, y *Binding) int {
		// ClusterRoleBindings (no namespace) first, as the authorizer
		// visits them.
		return cmp.Or(cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Name, y.Name))
	})
	p.byUser = map[string][]subjectRef{}
	p.byGroup = map[string][]subjectRef{}
	for i, x := range p.Bindings {
		x.seq = i
		x.role = p.resolve(x)
		for j, s := range x.Subjects {
			id, ok := subjectIdentity(s, x.Namespace)
			if !ok {
				continue
			}
			switch id.Kind {
			case rbacv1.UserKind:
				p.byUser[id.Name] = append(p.byUser[id.Name], subjectRef{x, j})
			case rbacv1.GroupKind:
				p.byGroup[id.Name] = append(p.byGroup[id.Name], subjectRef{x, j})
			case rbacv1.ServiceAccountKind:
				u := ServiceAccountUsername(id.Namespace, id.Name)
				p.byUser[u] = append(p.byUser[u], subjectRef{x, j})
			}
		}
	}
	for ns := range b.namespaces {
		p.Namespaces = append(p.Namespaces, ns)
	}
	slices.Sort(p.Namespaces)
	if !b.view {
		// Views warns once for the whole input.
		b.warnNamespaceless()
	}
	return p
}

// warnNamespaceless warns when objects without namespace were put in
// "default" while the input's bindings name ServiceAccounts of namespaces
// no object carries: manifests written for kubectl apply -n, whose
// analysis then finds none of those ServiceAccounts' pods or Secrets.
func (b *Builder) warnNamespaceless() {
	if b.defaulted == 0 || b.Namespace != "" {
		return
	}
	var missing []string
	var at finding.Location
	for _, x := range b.p.Bindings {
		if x.Default {
			continue
		}
		for i, s := range x.Subjects {
			id, ok := x.Identity(i)
			if !ok || s.Kind != rbacv1.ServiceAccountKind || s.Namespace == "" || b.carried[id.Namespace] || slices.Contains(missing, id.Namespace) {
				continue
			}
			if len(missing) == 0 && x.Origin != nil {
				at = x.Origin.Locate(subjectPath(i))
			}
			missing = append(missing, id.Namespace)
		}
	}
	if len(missing) == 0 {
		return
	}
	slices.Sort(missing)
	b.p.Warnings = append(b.p.Warnings, finding.InputError{Location: at, Message: fmt.Sprintf(
		"the input looks namespace-less: %d namespaced objects name no namespace and are taken to be in %q, "+
			"but bindings name ServiceAccounts of namespace %s, which no object carries; "+
			"if the manifests are applied with kubectl apply -n NAMESPACE, give -n NAMESPACE",
		b.defaulted, DefaultNamespace, strings.Join(missing, ", "))})
}

// resolve finds the role a binding refers to as the authorizer does: a
// Role in the binding's own namespace (never for a ClusterRoleBinding), or
// a ClusterRole.
func (p *Policy) resolve(x *Binding) *Role {
	switch x.RoleRef.Kind {
	case KindRole:
		if x.Namespace == "" {
			return nil
		}
		return p.Roles[x.Namespace+"/"+x.RoleRef.Name]
	case KindClusterRole:
		return p.ClusterRoles[x.RoleRef.Name]
	}
	return nil
}

// Namespaced reports whether a resource of a group is namespaced, from the
// built-in resources and the CustomResourceDefinitions of the input; known
// is false when neither tells.
func (p *Policy) Namespaced(group, resource string) (namespaced, known bool) {
	if n, ok := p.scopes[group+"/"+resource]; ok {
		return n, true
	}
	return builtinScope(group, resource)
}

// candidates returns the bindings with a subject that applies to the user
// and the index of the first such subject, in the authorizer's visiting
// order; keep filters the bindings (by namespace, say).
func (p *Policy) candidates(u User, keep func(*Binding) bool) []subjectRef {
	// Each list is in that order already, a binding's subjects in theirs:
	// merging the lists keeps it without sorting, which was most of the
	// cost of asking for a ServiceAccount, whose groups have hundreds of
	// bindings.
	lists := append(make([][]subjectRef, 0, 1+len(u.Groups)), p.byUser[u.Name])
	n := len(lists[0])
	for _, g := range u.Groups {
		lists = append(lists, p.byGroup[g])
		n += len(p.byGroup[g])
	}
	out := make([]subjectRef, 0, n)
	for {
		next := -1
		for k, l := range lists {
			if len(l) > 0 && (next < 0 || l[0].before(lists[next][0])) {
				next = k
			}
		}
		if next < 0 {
			return out
		}
		r := lists[next][0]
		lists[next] = lists[next][1:]
		// One entry per binding: the first subject that applies.
		if (len(out) == 0 || out[len(out)-1].b != r.b) && keep(r.b) {
			out = append(out, r)
		}
	}
}

// before orders subjects as the authorizer visits them.
func (r subjectRef) before(o subjectRef) bool {
	return r.b.seq < o.b.seq || r.b.seq == o.b.seq && r.i < o.i
}
