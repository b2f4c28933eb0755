// Package nodeproxy holds kubeguard cluster --nodes to the real
// kube-apiserver's node proxy (GET /api/v1/nodes/NAME/proxy/configz).
//
// The API server refuses to proxy to loopback and link-local addresses
// (isProxyableHostname in k8s.io/kubernetes pkg/registry/core/node), and
// the tests may talk only to loopback or to network namespaces they
// create. So the package runs in a network namespace of its own: TestMain
// re-executes the test binary in a new network namespace (in a new user
// namespace too unless it runs as root), where loopback is brought up and
// given the documentation address kubeletIP (TEST-NET-1, RFC 5737), and
// etcd, the API server and the fake kubelet all run there. Nothing leaves
// the namespace, and no address of the machine is used.
//
// When no namespace can be made (no permission, no ip command), each test
// is skipped with the reason, printed on standard error where go test
// shows it; with KUBEGUARD_E2E_REQUIRE_NETNS=1 (a CI machine known to
// allow namespaces) the package fails instead. A container runtime's
// default seccomp profile refuses namespaces, and a gate must not fail
// on the machine it runs on rather than on the change.
package nodeproxy

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// kubeletIP is the fake kubelet's address inside the namespace.
var kubeletIP = net.IPv4(192, 0, 2, 10).To4()

// inNamespaceEnv marks the re-executed test binary, inside the namespace;
// its value is the network namespace of the parent, which the child checks
// it is not in before it changes loopback.
const inNamespaceEnv = "KUBEGUARD_E2E_NODEPROXY_NETNS"

// namespaceKindEnv tells the re-executed test binary which namespaces it
// was made in, for the tests' logs.
const namespaceKindEnv = "KUBEGUARD_E2E_NODEPROXY_NS_KIND"

// skipReason is why the namespace could not be made; empty inside it.
var skipReason string

func TestMain(m *testing.M) {
	if os.Getenv(inNamespaceEnv) == "" {
		code, err := reexecInNamespace()
		if err == nil {
			os.Exit(code)
		}
		skipReason = err.Error()
	} else if err := setUpNamespace(); err != nil {
		skipReason = err.Error()
	}
	if skipReason != "" {
		if required, _ := strconv.ParseBool(os.Getenv("KUBEGUARD_E2E_REQUIRE_NETNS")); required {
			fmt.Fprintf(os.Stderr, "nodeproxy: %s; KUBEGUARD_E2E_REQUIRE_NETNS is set, so this fails instead of skipping\n", skipReason)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "nodeproxy: SKIPPED, no network namespace: %s\n", skipReason)
	}
	os.Exit(m.Run())
}

// needNamespace skips the test when the package could not make its
// network namespace.
func needNamespace(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	t.Logf("running in a new %s, the fake kubelet on %s", os.Getenv(namespaceKindEnv), kubeletIP)
}

// reexecInNamespace runs this test binary again, with the same arguments,
// in a new network namespace, and returns its exit code. It returns an
// error only when no namespace could be made. Root makes a network
// namespace directly; anyone else (or root without CAP_SYS_ADMIN, as in
// some containers) needs a user namespace in which it is root.
func reexecInNamespace() (int, error) {
	parent, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return 0, fmt.Errorf("cannot tell this process's network namespace: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("cannot re-execute the test binary in a network namespace: %w", err)
	}
	userns := &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWNET | syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		// An unprivileged user may map its group only with setgroups off.
		GidMappingsEnableSetgroups: false,
		Pdeathsig:                  syscall.SIGKILL,
	}
	attrs := []*syscall.SysProcAttr{userns}
	if os.Geteuid() == 0 {
		attrs = []*syscall.SysProcAttr{{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}, userns}
	}
	var errs []error
	for _, attr := range attrs {
		what := "network namespace"
		if attr.Cloneflags&syscall.CLONE_NEWUSER != 0 {
			what = "user and network namespace"
		}
		cmd := exec.Command(exe, os.Args[1:]...)
		cmd.Env = append(os.Environ(), inNamespaceEnv+"="+parent, namespaceKindEnv+"="+what)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		cmd.SysProcAttr = attr
		if err := cmd.Start(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
			continue
		}
		err := cmd.Wait()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			if exit.ExitCode() < 0 {
				return 1, nil // killed by a signal, which it printed
			}
			return exit.ExitCode(), nil
		}
		if err != nil {
			return 1, fmt.Errorf("the test binary in a network namespace: %w", err)
		}
		return 0, nil
	}
	return 0, fmt.Errorf("cannot create a network namespace for the node proxy tests (the API server proxies to no loopback address, and tests may use no other outside a namespace of their own): %w", errors.Join(errs...))
}

// setUpNamespace brings up loopback in the new namespace, and gives it
// kubeletIP. The namespace is the process's own: it ends with it.
func setUpNamespace() error {
	own, err := os.Readlink("/proc/self/ns/net")
	if err != nil || own == os.Getenv(inNamespaceEnv) {
		return fmt.Errorf("%s is set but this process is not in a network namespace of its own (%s, %v): loopback is left alone", inNamespaceEnv, own, err)
	}
	ip, err := exec.LookPath("ip")
	if err != nil {
		for _, p := range []string{"/usr/sbin/ip", "/sbin/ip"} {
			if _, serr := os.Stat(p); serr == nil {
				ip, err = p, nil
				break
			}
		}
	}
	if err != nil {
		return fmt.Errorf("the node proxy tests need the ip command (iproute2) to set up their network namespace: %w", err)
	}
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"addr", "add", kubeletIP.String() + "/32", "dev", "lo"},
	} {
		if out, err := exec.Command(ip, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("in the network namespace, ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}
