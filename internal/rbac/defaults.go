package rbac

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/object"
)

// The built-in roles and bindings, generated from a real API server by
// tools/rbacdefaults. The directory always holds its README, so the embed
// compiles before the data exists.
//
//go:embed defaults
var defaultsFS embed.FS

// DefaultsFile is the data file's path in the module.
const DefaultsFile = "internal/rbac/defaults/defaults.yaml"

// ErrNoDefaults is returned by Defaults while the data is not generated.
var ErrNoDefaults = errors.New("the API server's built-in RBAC roles are not generated yet: " +
	"run tools/rbacdefaults against a kube-apiserver to write " + DefaultsFile + " (see internal/rbac/defaults/README.md)")

// Defaults returns the built-in roles and bindings as objects, located in
// the embedded data file.
func Defaults() ([]*object.Object, error) {
	data, err := defaultsFS.ReadFile("defaults/defaults.yaml")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoDefaults
	}
	if err != nil {
		return nil, err
	}
	return parseDefaults(data)
}

func parseDefaults(data []byte) ([]*object.Object, error) {
	var out []*object.Object
	for _, d := range manifest.Split(data) {
		objs, errs := manifest.Parse(DefaultsFile, d)
		if len(errs) > 0 {
			return nil, fmt.Errorf("built-in RBAC data: %s", errs[0].Error())
		}
		out = append(out, objs...)
	}
	return out, nil
}

// AddDefaults adds the built-in roles and bindings to the builder, before
// the input so that the input's own definitions replace them. Every object
// is marked as built in, whatever its labels.
func (b *Builder) AddDefaults(objs []*object.Object) {
	b.init()
	for _, o := range objs {
		d := Decode(o)
		b.defaults = append(b.defaults, d)
		b.addDefault(d)
	}
	b.p.DefaultsLoaded = true
}

// addDefault adds a decoded built-in object, marked as built in.
func (b *Builder) addDefault(d Decoded) {
	n := len(b.p.Bindings)
	var role *Role
	b.add(d)
	if d.origin != nil {
		switch ref := d.origin.Ref; ref.Kind {
		case KindClusterRole:
			role = b.p.ClusterRoles[ref.Name]
		case KindRole:
			role = b.p.Roles[orDefault(ref.Namespace)+"/"+ref.Name]
		}
	}
	if role != nil && role.Origin == d.origin {
		role.Default = true
	}
	for _, x := range b.p.Bindings[n:] {
		x.Default = true
	}
}
