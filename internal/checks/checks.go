// Package checks is the catalogue: the explicit list of every check
// kubeguard runs.
package checks

import (
	"fmt"
	"slices"
	"sync"

	"github.com/kubeguard/kubeguard/internal/audit"
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/checks/input"
	"github.com/kubeguard/kubeguard/internal/checks/namespace"
	"github.com/kubeguard/kubeguard/internal/checks/netpol"
	"github.com/kubeguard/kubeguard/internal/checks/network"
	"github.com/kubeguard/kubeguard/internal/checks/pss"
	"github.com/kubeguard/kubeguard/internal/checks/secrets"
	"github.com/kubeguard/kubeguard/internal/checks/serviceaccount"
	"github.com/kubeguard/kubeguard/internal/checks/workload"
	"github.com/kubeguard/kubeguard/internal/node"
	"github.com/kubeguard/kubeguard/internal/rbac"
	"github.com/kubeguard/kubeguard/internal/suppress"
)

var (
	once sync.Once
	all  []check.Check
	err  error

	catOnce sync.Once
	cat     []check.Check
	catErr  error
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

// Catalogue returns every check of every front: All, then the audit
// policy and log checks and the node checks, which run outside the object
// engine. It is what `kubeguard checks` lists, `explain` explains and a
// configuration file may name, so one .kubeguard.yaml serves every command.
func Catalogue() ([]check.Check, error) {
	catOnce.Do(func() {
		var objects []check.Check
		if objects, catErr = All(); catErr != nil {
			return
		}
		cat = slices.Concat(objects, audit.PolicyChecks, audit.LogChecks, node.Metadata(node.Checks()))
		catErr = check.Validate(cat)
	})
	return cat, catErr
}

// Known reports whether id names a check of the catalogue.
func Known(id string) bool {
	cs, err := Catalogue()
	return err == nil && slices.ContainsFunc(cs, func(c check.Check) bool { return c.ID == id })
}
