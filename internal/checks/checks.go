// Package checks is the catalogue: the explicit list of every check
// kubeguard runs.
package checks

import (
	"fmt"
	"slices"
	"sync"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/checks/input"
	"github.com/kubeguard/kubeguard/internal/checks/namespace"
	"github.com/kubeguard/kubeguard/internal/checks/netpol"
	"github.com/kubeguard/kubeguard/internal/checks/network"
	"github.com/kubeguard/kubeguard/internal/checks/pss"
	"github.com/kubeguard/kubeguard/internal/checks/secrets"
	"github.com/kubeguard/kubeguard/internal/checks/serviceaccount"
	"github.com/kubeguard/kubeguard/internal/checks/workload"
	"github.com/kubeguard/kubeguard/internal/rbac"
	"github.com/kubeguard/kubeguard/internal/suppress"
)

var (
	once sync.Once
	all  []check.Check
	err  error
)

// All returns every check, validated. The list is built once.
func All() ([]check.Check, error) {
	once.Do(func() {
		var e *pss.Evaluator
		e, err = pss.NewEvaluator()
		if err != nil {
			err = fmt.Errorf("pod security evaluator: %w", err)
			return
		}
		all = slices.Concat(pss.Checks(e), workload.Checks, namespace.Checks, netpol.Checks, network.Checks, serviceaccount.Checks, secrets.Checks, input.Checks, rbac.Checks)
		ids := map[string]bool{}
		for _, c := range all {
			ids[c.ID] = true
		}
		all = append(all, suppress.ExpiredExemption, suppress.InvalidSuppression(func(id string) bool { return ids[id] }))
		err = check.Validate(all)
	})
	return all, err
}
