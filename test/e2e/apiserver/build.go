// Package apiserver runs a real kube-apiserver backed by etcd for the
// end-to-end tests, both built from Go modules into a cache kept beside this
// module, so a test run needs nothing installed but Go.
package apiserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

const (
	apiserverPackage = "k8s.io/kubernetes/cmd/kube-apiserver"
	kubernetesModule = "k8s.io/kubernetes"
	etcdModule       = "go.etcd.io/etcd/server/v3"
	etcdMainPackage  = "github.com/kubeguard/kubeguard/test/e2e/cmd/etcd"
)

// Binaries are the paths of the built executables.
type Binaries struct {
	APIServer string
	Etcd      string
	// KubernetesVersion is the k8s.io/kubernetes module version the API
	// server was built from, v1.36.3 say.
	KubernetesVersion string
}

// Build returns the kube-apiserver and etcd executables, building them into
// <module>/.cache/bin/<key>/ unless they are there already. The key names
// the Kubernetes, etcd and Go versions, the platform and a digest of
// go.mod and go.sum, so any change of what they are built from builds anew.
// Concurrent callers (test packages run in parallel) take turns on a file
// lock; the first builds, the others find the result.
//
// The first build of kube-apiserver takes minutes; log, if not nil, is told
// when one starts.
func Build(ctx context.Context, log io.Writer) (Binaries, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return Binaries{}, err
	}
	k8sVersion, err := moduleVersion(ctx, root, kubernetesModule)
	if err != nil {
		return Binaries{}, err
	}
	etcdVersion, err := moduleVersion(ctx, root, etcdModule)
	if err != nil {
		return Binaries{}, err
	}
	digest, err := fileDigest(filepath.Join(root, "go.mod"), filepath.Join(root, "go.sum"))
	if err != nil {
		return Binaries{}, err
	}
	key := strings.Join([]string{
		"kubernetes-" + k8sVersion,
		"etcd-" + etcdVersion,
		runtime.Version(),
		runtime.GOOS + "-" + runtime.GOARCH,
		digest,
	}, "_")
	dir := filepath.Join(root, ".cache", "bin", key)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Binaries{}, err
	}
	unlock, err := lock(filepath.Join(dir, ".lock"))
	if err != nil {
		return Binaries{}, err
	}
	defer unlock()

	b := Binaries{
		APIServer:         filepath.Join(dir, "kube-apiserver"),
		Etcd:              filepath.Join(dir, "etcd"),
		KubernetesVersion: k8sVersion,
	}
	// The version ldflags are those of an upstream release build, so that
	// /version answers as a released server does.
	major, minor := splitVersion(k8sVersion)
	apiserverFlags := []string{"-ldflags", strings.Join([]string{
		"-X k8s.io/component-base/version.gitVersion=" + k8sVersion,
		"-X k8s.io/component-base/version.gitMajor=" + major,
		"-X k8s.io/component-base/version.gitMinor=" + minor,
		"-X k8s.io/component-base/version.gitTreeState=clean",
	}, " ")}
	targets := []struct {
		out, pkg string
		flags    []string
	}{
		{b.Etcd, etcdMainPackage, nil},
		{b.APIServer, apiserverPackage, apiserverFlags},
	}
	for _, t := range targets {
		if _, err := os.Stat(t.out); err == nil {
			continue
		}
		if log != nil {
			fmt.Fprintf(log, "e2e: building %s into %s (a first build takes minutes)\n", t.pkg, dir)
		}
		start := time.Now()
		if err := goBuild(ctx, root, t.out, t.pkg, t.flags); err != nil {
			return Binaries{}, err
		}
		if log != nil {
			fmt.Fprintf(log, "e2e: built %s in %s\n", filepath.Base(t.out), time.Since(start).Round(time.Second))
		}
	}
	return b, nil
}

// goBuild builds pkg into a temporary name and renames it into place, so an
// interrupted build never leaves a file that a later run would take for a
// finished one.
func goBuild(ctx context.Context, root, out, pkg string, flags []string) error {
	tmp := out + ".tmp"
	args := append([]string{"build", "-o", tmp}, flags...)
	args = append(args, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, output.Bytes())
	}
	return os.Rename(tmp, out)
}

// moduleRoot is the directory of the e2e module's go.mod, found from the
// working directory, which go test sets to the package's.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module: run from test/e2e")
	}
	return filepath.Dir(gomod), nil
}

// moduleVersion is the version of a module in the build list of the
// module at root.
func moduleVersion(ctx context.Context, root, module string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Version}}", module)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s: %w", module, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// ModuleDir is the directory of a module of the e2e module's build list in
// the module cache, for reading the files it ships (fixtures, say).
func ModuleDir(ctx context.Context, module string) (string, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", module)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s: %w", module, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("module %s is not downloaded: run go mod download in test/e2e", module)
	}
	return dir, nil
}

func fileDigest(paths ...string) (string, error) {
	h := sha256.New()
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(p), len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// splitVersion turns v1.36.3 into "1" and "36".
func splitVersion(v string) (major, minor string) {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 {
		return "", ""
	}
	return parts[0], parts[1]
}

// lock takes an exclusive lock on path, waiting for it.
func lock(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
