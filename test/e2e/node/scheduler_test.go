package node

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/klog/v2"
	schedulerappconfig "k8s.io/kubernetes/cmd/kube-scheduler/app/config"
	scheduleroptions "k8s.io/kubernetes/cmd/kube-scheduler/app/options"
	schedulerlatest "k8s.io/kubernetes/pkg/scheduler/apis/config/latest"
	"sigs.k8s.io/yaml"

	"github.com/kubeguard/kubeguard/internal/node"
)

// schedulerCase is the node fixture of schedulers run with and without
// --config: flag only, --config with enableProfiling, --config without
// it, both, and files the scheduler refuses.
const schedulerCase = "../../../internal/node/testdata/cases/scheduler-config/root"

// TestSchedulerEffectiveProfiling runs each scheduler command line of the
// fixture through kube-scheduler's own options code (NewOptions, its flag
// sets parsed as the scheduler's command parses them, then ApplyTo, which
// loads --config with the scheduler's codec and decides which flags it
// ignores) and holds kubeguard's scheduler-profiling verdict to the
// EnableProfiling the scheduler would run with; a command line the
// scheduler refuses must be an input error of kubeguard's, not a verdict.
func TestSchedulerEffectiveProfiling(t *testing.T) {
	root, err := filepath.Abs(schedulerCase)
	if err != nil {
		t.Fatal(err)
	}
	manifests := filepath.Join(root, "etc/kubernetes/manifests")
	n := node.Read(node.Host{Root: root}, node.Layout{ManifestDirs: []string{"/etc/kubernetes/manifests"}})
	var cs []node.Check
	for _, c := range node.Checks() {
		if c.ID == "scheduler-profiling" {
			cs = append(cs, c)
		}
	}
	findings, errs := node.Evaluate(n, cs, node.Options{})
	on := map[string]bool{}
	for _, f := range findings {
		on[f.Object.Name] = true
	}
	refused := map[string]string{}
	for _, e := range errs {
		refused[strings.TrimSuffix(filepath.Base(e.Location.File), ".yaml")] = e.Message
	}
	entries, err := os.ReadDir(manifests)
	if err != nil {
		t.Fatal(err)
	}
	judged := 0
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".yaml")
		t.Run(name, func(t *testing.T) {
			args := schedulerArgs(t, filepath.Join(manifests, e.Name()), root)
			profiling, err := upstreamProfiling(args)
			if err != nil {
				t.Logf("kube-scheduler refuses it: %v", err)
				if _, ok := refused[name]; !ok {
					t.Errorf("kube-scheduler refuses %v (%v); kubeguard reports no input error", args, err)
				}
				return
			}
			if msg, ok := refused[name]; ok {
				t.Errorf("kube-scheduler starts with %v; kubeguard says %s", args, msg)
				return
			}
			judged++
			if on[name] != profiling {
				t.Errorf("kube-scheduler %v runs with EnableProfiling=%v; kubeguard's finding: %v", args, profiling, on[name])
			}
		})
	}
	if judged < 8 {
		t.Errorf("only %d schedulers judged: the fixture lost its cases", judged)
	}
}

// schedulerArgs reads a scheduler's static pod and returns its flags,
// with --config pointed at the fixture's root.
func schedulerArgs(t *testing.T, manifest, root string) []string {
	t.Helper()
	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	var pod corev1.Pod
	if err := yaml.UnmarshalStrict(data, &pod); err != nil {
		t.Fatal(err)
	}
	cmd := pod.Spec.Containers[0].Command
	var args []string
	for _, a := range cmd[1:] {
		if v, ok := strings.CutPrefix(a, "--config="); ok {
			a = "--config=" + filepath.Join(root, v)
		}
		args = append(args, a)
	}
	return args
}

// upstreamScheduler parses args with kube-scheduler's flag sets and
// applies them as its Setup does: the defaulted configuration
// (latest.Default), Validate, then ApplyTo, which loads --config with the
// scheduler's codec and decides which flags it ignores. Secure serving is
// turned off (port 0) and a master given, so that ApplyTo neither listens
// nor needs a kubeconfig; neither flag is one --config makes the
// scheduler ignore, nor touches profiling.
func upstreamScheduler(args []string) (*scheduleroptions.Options, *schedulerappconfig.Config, error) {
	o := scheduleroptions.NewOptions()
	fs := pflag.NewFlagSet("kube-scheduler", pflag.ContinueOnError)
	for _, f := range o.Flags.FlagSets {
		fs.AddFlagSet(f)
	}
	if err := fs.Parse(append(args, "--secure-port=0", "--master=https://127.0.0.1:1")); err != nil {
		return nil, nil, err
	}
	cfg, err := schedulerlatest.Default()
	if err != nil {
		return nil, nil, err
	}
	o.ComponentConfig = cfg
	if errs := o.Validate(); len(errs) > 0 {
		return nil, nil, utilerrors.NewAggregate(errs)
	}
	var c schedulerappconfig.Config
	if err := o.ApplyTo(klog.Background(), &c); err != nil {
		return nil, nil, err
	}
	return o, &c, nil
}

// upstreamProfiling is the EnableProfiling the scheduler would serve
// /debug/pprof by.
func upstreamProfiling(args []string) (bool, error) {
	_, c, err := upstreamScheduler(args)
	if err != nil {
		return false, err
	}
	return c.ComponentConfig.EnableProfiling, nil
}

// TestSchedulerIgnoredFlags holds the flags kubeguard treats as ignored
// under --config to the scheduler: each set to a non-default value with a
// --config that leaves its field out changes nothing, and --bind-address
// (judged by scheduler-bind-address from the flag) still applies.
func TestSchedulerIgnoredFlags(t *testing.T) {
	root, err := filepath.Abs(schedulerCase)
	if err != nil {
		t.Fatal(err)
	}
	config := "--config=" + filepath.Join(root, "etc/kubernetes/scheduler/absent.yaml")
	for _, tt := range []struct {
		args []string
	}{
		{[]string{"--profiling=false"}},
		{[]string{"--contention-profiling=false"}},
	} {
		with, err := upstreamProfilingPair(append(tt.args, config))
		if err != nil {
			t.Fatal(err)
		}
		without, err := upstreamProfilingPair([]string{config})
		if err != nil {
			t.Fatal(err)
		}
		if with != without {
			t.Errorf("%v changes the scheduler's profiling under --config (%s, %s): kubeguard ignores it", tt.args, with, without)
		}
	}
	o, _, err := upstreamScheduler([]string{config, "--bind-address=192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := o.SecureServing.BindAddress.String(); got != "192.0.2.1" {
		t.Errorf("--bind-address under --config gives %s, want the flag's 192.0.2.1", got)
	}
}

// upstreamProfilingPair renders EnableProfiling and
// EnableContentionProfiling as the scheduler would run with them.
func upstreamProfilingPair(args []string) (string, error) {
	_, c, err := upstreamScheduler(args)
	if err != nil {
		return "", err
	}
	return strconv.FormatBool(c.ComponentConfig.EnableProfiling) + "/" + strconv.FormatBool(c.ComponentConfig.EnableContentionProfiling), nil
}
