package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// dockerInstr is one instruction of a Dockerfile.
type dockerInstr struct {
	op, args string
	line     int
}

// parseDockerfile reads instructions, joining continuation lines and
// dropping comments: enough of the format for the recipe's checks.
func parseDockerfile(t *testing.T, path string) []dockerInstr {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []dockerInstr
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur.WriteString(strings.TrimSuffix(trimmed, `\`) + " ")
			continue
		}
		cur.WriteString(trimmed)
		op, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerInstr{strings.ToUpper(op), strings.TrimSpace(args), start})
		cur.Reset()
	}
	return out
}

// TestImageRecipe holds deploy/Dockerfile to what deploy/ expects of the
// image and to the module, statically. The image itself is built from the
// same file without a container daemon, and checked, by test/e2e/image
// (run by .ci/run). What is not checked here or there: that a container
// runtime builds the file with the golang image.
func TestImageRecipe(t *testing.T) {
	dockerfile := filepath.Join(deployDir, "Dockerfile")
	ins := parseDockerfile(t, dockerfile)
	var stages [][]dockerInstr
	for _, in := range ins {
		if in.op == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("%s:%d: %s before FROM", dockerfile, in.line, in.op)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	if len(stages) != 2 {
		t.Fatalf("%d stages, want a build stage and the image", len(stages))
	}
	find := func(stage []dockerInstr, op string) []dockerInstr {
		var out []dockerInstr
		for _, in := range stage {
			if in.op == op {
				out = append(out, in)
			}
		}
		return out
	}
	build, image := stages[0], stages[1]

	// The toolchain of the build stage is the go.mod's.
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	if want := "golang:" + string(goVersion[1]) + " AS build"; build[0].args != want {
		t.Errorf("build stage FROM %q, want %q", build[0].args, want)
	}
	// A static binary of ./cmd/kubeguard: the image has no C library.
	runs := find(build, "RUN")
	last := runs[len(runs)-1].args
	for _, want := range []string{"CGO_ENABLED=0", "go build", "-trimpath", "-o /out/kubeguard", "./cmd/kubeguard"} {
		if !strings.Contains(last, want) {
			t.Errorf("build command %q lacks %q", last, want)
		}
	}
	// Every directory the binary is built from is copied in.
	var copied []string
	for _, c := range find(build, "COPY") {
		f := strings.Fields(c.args)
		copied = append(copied, f[:len(f)-1]...)
	}
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.Module.Path}} {{.Dir}}{{end}}", "../../cmd/kubeguard")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		mod, dir, _ := strings.Cut(line, " ")
		if mod != "github.com/kubeguard/kubeguard" {
			continue
		}
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			t.Fatal(err)
		}
		ok := false
		for _, c := range copied {
			c = strings.TrimSuffix(c, "/")
			ok = ok || rel == c || strings.HasPrefix(rel, c+"/")
		}
		if !ok {
			t.Errorf("package directory %s is not copied into the build stage (COPY %s)", rel, strings.Join(copied, " "))
		}
	}

	// The image: nothing but the binary the build stage makes, as its
	// entrypoint, run as a numeric non-root user (a name would need an
	// /etc/passwd, and the kubelet cannot verify runAsNonRoot for it).
	if from := image[0].args; from != "scratch" {
		t.Errorf("image FROM %q, want scratch: the image holds the binary alone", from)
	}
	output := regexp.MustCompile(`-o (\S+)`).FindStringSubmatch(last)
	copies := find(image, "COPY")
	if len(copies) != 1 || output == nil {
		t.Fatalf("image COPY %v, want the build's output (%v) alone", copies, output)
	}
	cp := strings.Fields(copies[0].args)
	if len(cp) != 3 || cp[0] != "--from=build" || cp[1] != output[1] || !strings.HasPrefix(cp[2], "/") {
		t.Fatalf("image COPY %q, want --from=build %s /<path>", copies[0].args, output[1])
	}
	if e := find(image, "ENTRYPOINT"); len(e) != 1 || e[0].args != `["`+cp[2]+`"]` {
		t.Errorf("ENTRYPOINT %v, want [%q], the binary copied in", e, cp[2])
	}
	users := find(image, "USER")
	if len(users) != 1 {
		t.Fatalf("image USER %v, want one", users)
	}
	user := regexp.MustCompile(`^([0-9]+):([0-9]+)$`).FindStringSubmatch(users[0].args)
	if user == nil || user[1] == "0" {
		t.Fatalf("image USER %q, want a numeric non-root uid:gid", users[0].args)
	}
	for _, in := range image {
		switch in.op {
		case "FROM", "COPY", "USER", "ENTRYPOINT":
		default:
			t.Errorf("%s:%d: %s in the image stage, which holds the binary alone", dockerfile, in.line, in.op)
		}
	}

	// What deploy/ runs in the image: the user and group the image has, a
	// read-only root filesystem, no command over the entrypoint, and
	// arguments kubeguard accepts. The node scanner runs as root on
	// purpose (it reads root's files on the host), so only its user is
	// not held to the image's.
	type podUse struct {
		file   string
		spec   corev1.PodSpec
		asRoot bool
	}
	var uses []podUse
	for _, d := range decodeDocs[appsv1.Deployment](t, "deployment.yaml", "Deployment") {
		uses = append(uses, podUse{"deployment.yaml", d.Spec.Template.Spec, false})
	}
	for _, c := range decodeDocs[batchv1.CronJob](t, "scanner/cronjob.yaml", "CronJob") {
		uses = append(uses, podUse{"scanner/cronjob.yaml", c.Spec.JobTemplate.Spec.Template.Spec, false})
	}
	for _, d := range decodeDocs[appsv1.DaemonSet](t, "node-scanner/daemonset.yaml", "DaemonSet") {
		uses = append(uses, podUse{"node-scanner/daemonset.yaml", d.Spec.Template.Spec, true})
	}
	if len(uses) != 3 {
		t.Fatalf("%d pod specs in deploy/, want the webhook's and the two scanners'", len(uses))
	}
	for _, u := range uses {
		for _, c := range u.spec.Containers {
			sc := c.SecurityContext
			psc := u.spec.SecurityContext
			uid, gid := int64(-1), int64(-1)
			if psc != nil && psc.RunAsUser != nil {
				uid = *psc.RunAsUser
			}
			if psc != nil && psc.RunAsGroup != nil {
				gid = *psc.RunAsGroup
			}
			if sc != nil && sc.RunAsUser != nil {
				uid = *sc.RunAsUser
			}
			if sc != nil && sc.RunAsGroup != nil {
				gid = *sc.RunAsGroup
			}
			if got := fmt.Sprintf("%d:%d", uid, gid); !u.asRoot && got != users[0].args {
				t.Errorf("%s: container %s runs as %s, not the image's %s", u.file, c.Name, got, users[0].args)
			}
			if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Errorf("%s: container %s has a writable root filesystem", u.file, c.Name)
			}
			if len(c.Command) > 0 {
				t.Errorf("%s: container %s overrides the entrypoint with %q", u.file, c.Name, c.Command)
			}
			// Flags are parsed up to --help: an unknown one fails.
			var so, se bytes.Buffer
			if code := Run(context.Background(), append(append([]string{}, c.Args...), "--help"), IO{Stdout: &so, Stderr: &se}); code != ExitOK {
				t.Errorf("%s: container %s args %q: kubeguard says %s", u.file, c.Name, c.Args, se.String())
			}
		}
	}
}
