package rbac

import (
	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/object"
)

// RisksOn and PathsOn run the analyses on a given number of goroutines, for
// the tests that hold the parallel analyses to the sequential one.
var (
	RisksOn = risks
	PathsOn = paths
)

// DecodeGeneral decodes as Decode does, roles and bindings through the
// general decoder only.
func DecodeGeneral(o *object.Object) Decoded { return decode(o, false, "") }

// Contents are what a Decoded holds, for comparison.
func (d Decoded) Contents() (*Role, *Binding, error) { return d.role, d.binding, d.err }

// CompareOrigins lets go-cmp compare origins, the located fields included.
var CompareOrigins = cmp.AllowUnexported(Origin{}, field{})
