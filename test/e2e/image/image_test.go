package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

const root = "../../.."

// recipe is a Dockerfile of the shape deploy/Dockerfile has; the cases of
// TestParseRecipe change one thing in it.
const recipe = `# comment
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd/ cmd/
ARG VERSION=""
# a comment
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags="-s -w -X main.Version=${VERSION}" -o /out/kubeguard ./cmd/kubeguard

FROM scratch
COPY --from=build /out/kubeguard /kubeguard
USER 65532:65532
ENTRYPOINT ["/kubeguard"]
`

func TestParseRecipe(t *testing.T) {
	r, err := ParseRecipe(recipe, map[string]string{"VERSION": "v1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	want := &Recipe{
		Build:      []string{"build", "-trimpath", "-ldflags=-s -w -X main.Version=v1.2.3", "-o", "/out/kubeguard", "./cmd/kubeguard"},
		Env:        []string{"CGO_ENABLED=0"},
		Output:     "/out/kubeguard",
		Args:       map[string]string{"VERSION": "v1.2.3"},
		Path:       "/kubeguard",
		User:       "65532:65532",
		Entrypoint: []string{"/kubeguard"},
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("recipe (-want +got):\n%s", diff)
	}
	if r, err := ParseRecipe(recipe, nil); err != nil || r.Build[2] != "-ldflags=-s -w -X main.Version=" {
		t.Errorf("without build args: %q, %v; want the ARG's default, empty", r.Build, err)
	}

	// Each change is one the builder would not reproduce faithfully.
	refused := []struct {
		name, old, new string
		args           map[string]string
		want           string
	}{
		{"base image", "FROM scratch", "FROM gcr.io/distroless/static-debian12:nonroot", nil, "only scratch"},
		{"instruction in the image", "USER 65532", "RUN [\"/kubeguard\", \"version\"]\nUSER 65532", nil, "RUN is not understood in the image stage"},
		{"env in the image", "USER 65532", "ENV A=b\nUSER 65532", nil, "ENV is not understood"},
		{"second copy", "USER 65532", "COPY --from=build /out/kubeguard /kg\nUSER 65532", nil, "a second COPY"},
		{"copy flag", "COPY --from=build /out", "COPY --chmod=4755 --from=build /out", nil, "want --from=build"},
		{"copy of another file", "COPY --from=build /out/kubeguard /kubeguard", "COPY --from=build /etc/passwd /kubeguard", nil, "want --from=build /out/kubeguard"},
		{"named user", "USER 65532:65532", "USER nonroot", nil, "numeric uid:gid"},
		{"user without group", "USER 65532:65532", "USER 65532", nil, "numeric uid:gid"},
		{"shell entrypoint", `ENTRYPOINT ["/kubeguard"]`, "ENTRYPOINT /kubeguard", nil, "no shell"},
		{"entrypoint elsewhere", `ENTRYPOINT ["/kubeguard"]`, `ENTRYPOINT ["/bin/sh", "-c", "/kubeguard"]`, nil, "does not run the binary"},
		{"no entrypoint", `ENTRYPOINT ["/kubeguard"]`, "", nil, "no ENTRYPOINT"},
		{"env in the build", "WORKDIR /src", "WORKDIR /src\nENV GOFLAGS=-tags=x", nil, "ENV is not understood in the build stage"},
		{"other run", "RUN go mod download", "RUN go generate ./...", nil, "neither 'go mod download' nor a go build"},
		{"and-list", "./cmd/kubeguard\n", "./cmd/kubeguard && strip /out/kubeguard\n", nil, `'&'`},
		{"command substitution", "${VERSION}", "$(git describe)", nil, "not a variable"},
		{"undeclared variable", "${VERSION}", "${COMMIT}", nil, "$COMMIT is not an ARG"},
		{"single quotes", `"-s -w -X main.Version=${VERSION}"`, `'-s -w'`, nil, `'\''`},
		{"unquoted blanks", `-ldflags="-s -w -X main.Version=${VERSION}"`, `-ldflags=$VERSION`, map[string]string{"VERSION": "a b"}, "holds blanks"},
		{"step after the build", "\nFROM scratch", "RUN go mod download\nFROM scratch", nil, "RUN after the go build"},
		{"no output flag", "-o /out/kubeguard ./cmd", "./cmd", nil, "no output file"},
		{"unnamed build stage", "golang:1.26 AS build", "golang:1.26", nil, "has no name"},
		{"third stage", "FROM scratch", "FROM scratch AS x\nFROM scratch", nil, "3 stages"},
		{"escape directive", "# comment", "# escape=`", nil, "parser directive"},
		{"undeclared build arg", "", "", map[string]string{"COMMIT": "x"}, "COMMIT is not an ARG"},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			text := recipe
			if c.old != "" {
				if !strings.Contains(text, c.old) {
					t.Fatalf("%q is not in the recipe", c.old)
				}
				text = strings.Replace(text, c.old, c.new, 1)
			}
			_, err := ParseRecipe(text, c.args)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}

// FuzzParseRecipe holds the Dockerfile reader to what the builder relies
// on, on any input: no panic, and a recipe it accepts names a go build
// with an output file, copies that file in, runs it as the entrypoint, and
// has a numeric user.
func FuzzParseRecipe(f *testing.F) {
	f.Add(recipe, "v1.2.3")
	f.Add(strings.Replace(recipe, "${VERSION}", "$VERSION", 1), "a b")
	f.Add(strings.Replace(recipe, `ENTRYPOINT ["/kubeguard"]`, `ENTRYPOINT ["/kubeguard", "webhook"]`, 1), "")
	f.Add("FROM a AS b\nRUN go build -o=/x .\nFROM scratch\nCOPY --from=b /x /y\nUSER 1:2\nENTRYPOINT [\"/y\"]\n", "")
	f.Add("FROM x\\\n", "")
	f.Add("# escape=`\nFROM scratch", "")
	f.Fuzz(func(t *testing.T, data, version string) {
		r, err := ParseRecipe(data, map[string]string{"VERSION": version})
		if err != nil {
			return
		}
		if len(r.Build) == 0 || r.Build[0] != "build" || r.Output == "" {
			t.Errorf("accepted a recipe without a go build's output: %+v", r)
		}
		if r.Path == "" || len(r.Entrypoint) == 0 || r.Entrypoint[0] != r.Path {
			t.Errorf("accepted an entrypoint %q that is not the file copied in (%q)", r.Entrypoint, r.Path)
		}
		if _, err := fmt.Sscanf(r.User, "%d:%d", new(uint32), new(uint32)); err != nil {
			t.Errorf("accepted user %q: %v", r.User, err)
		}
	})
}

// archive is what the docker-archive format holds, read here with the
// standard library alone, apart from the library that wrote it.
type archive struct {
	manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	files map[string][]byte
}

func readArchive(t *testing.T, path string) *archive {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a := &archive{files: map[string][]byte{}}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			t.Fatalf("archive entry %s of type %c", h.Name, h.Typeflag)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		a.files[h.Name] = b
	}
	if err := json.Unmarshal(a.files["manifest.json"], &a.manifest); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	return a
}

// imageConfig is the part of the image configuration (the OCI image spec's
// config, which docker's is) that the checks read.
type imageConfig struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Config       struct {
		User         string
		Entrypoint   []string
		Cmd          []string
		Env          []string
		WorkingDir   string
		ExposedPorts map[string]any
		Volumes      map[string]any
	} `json:"config"`
	RootFS struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// shared is the archive the package's tests check when KUBEGUARD_IMAGE
// names none: built once, removed by TestMain.
var shared struct {
	once      sync.Once
	dir, path string
	err       error
}

func TestMain(m *testing.M) {
	code := m.Run()
	stopServer(code != 0)
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// archivePath is the docker-archive the tests check: KUBEGUARD_IMAGE, or
// one built here from deploy/Dockerfile with VERSION=e2e-image.
func archivePath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("KUBEGUARD_IMAGE"); p != "" {
		t.Logf("checking %s", p)
		return p
	}
	tag := deployImage(t) + ":e2e-image"
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "kubeguard-image-test-")
		if shared.err != nil {
			return
		}
		shared.path = filepath.Join(shared.dir, "kubeguard.tar")
		r, err := ReadRecipe(filepath.Join(root, "deploy", "Dockerfile"), map[string]string{"VERSION": "e2e-image"})
		if err != nil {
			shared.err = err
			return
		}
		bin, err := BuildBinary(context.Background(), r, root, shared.dir)
		if err != nil {
			shared.err = err
			return
		}
		img, err := Build(r, bin)
		if err != nil {
			shared.err = err
			return
		}
		shared.err = WriteArchive(shared.path, tag, img)
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.path
}

// newRootfs makes a root filesystem holding the binary alone, at entry
// with the layer's mode, traversable by anyone (as an image's root is).
func newRootfs(t *testing.T, entry string, binary []byte, mode os.FileMode) string {
	t.Helper()
	rootfs := filepath.Join(t.TempDir(), "rootfs")
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(rootfs, entry)
	if err := os.WriteFile(p, binary, mode); err != nil {
		t.Fatal(err)
	}
	// WriteFile's mode passes through the umask; the layer's is meant.
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return rootfs
}

// runIn runs entry chrooted into rootfs as user (uid:gid, no
// supplementary groups) with env alone, as a container runtime would; not
// being root, it runs the same binary unchrooted as this user.
func runIn(t *testing.T, rootfs, entry, user string, env []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var uid, gid uint32
	if _, err := fmt.Sscanf(user, "%d:%d", &uid, &gid); err != nil {
		t.Fatalf("user %q: %v", user, err)
	}
	var so, se bytes.Buffer
	cmd := &exec.Cmd{Path: entry, Args: append([]string{entry}, args...), Dir: "/", Env: append([]string{}, env...), Stdin: strings.NewReader(stdin), Stdout: &so, Stderr: &se}
	if os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: rootfs, Credential: &syscall.Credential{Uid: uid, Gid: gid, Groups: []uint32{}}}
	} else {
		t.Log("not root: the binary runs without chroot, as this user")
		cmd.Path, cmd.Dir = filepath.Join(rootfs, entry), rootfs
	}
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %q: %v", entry, args, err)
	}
	return so.String(), se.String(), code
}

// deployImage is the repository of the image deploy/deployment.yaml runs.
func deployImage(t *testing.T) string {
	t.Helper()
	spec := deploySpec(t)
	if len(spec.Containers) != 1 {
		t.Fatalf("deployment.yaml has %d containers, want the webhook's", len(spec.Containers))
	}
	repo, _ := splitTag(spec.Containers[0].Image)
	return repo
}

// splitTag splits an image reference at its tag's colon (the last, which
// a registry's port is not).
func splitTag(ref string) (repo, tag string) {
	i := strings.LastIndexByte(ref, ':')
	if i < 0 || strings.Contains(ref[i:], "/") {
		return ref, ""
	}
	return ref[:i], ref[i+1:]
}

// deployUser is the uid:gid deploy/deployment.yaml runs the webhook's
// container as: what the image must be for the manifests.
func deployUser(t *testing.T) string {
	t.Helper()
	spec := deploySpec(t)
	if spec.SecurityContext == nil || spec.SecurityContext.RunAsUser == nil || spec.SecurityContext.RunAsGroup == nil {
		t.Fatal("deployment.yaml sets no pod runAsUser/runAsGroup")
	}
	return fmt.Sprintf("%d:%d", *spec.SecurityContext.RunAsUser, *spec.SecurityContext.RunAsGroup)
}

// deploySpec is the pod template of deploy/deployment.yaml.
func deploySpec(t *testing.T) corev1.PodSpec {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "deploy", "deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Spec struct {
			Template struct {
				Spec corev1.PodSpec
			}
		}
	}
	if err := yaml.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	return d.Spec.Template.Spec
}

// TestImage builds the image from deploy/Dockerfile as cmd/image does and
// checks what it holds: its configuration (the user deploy/ runs, an
// exec-form entrypoint, nothing else), its one layer (the binary alone,
// root's, not writable by the user, executable by it), the binary (static,
// built as the recipe says) and that the binary runs as the image's user
// in a root filesystem of that layer alone.
//
// With KUBEGUARD_IMAGE set, it checks that archive (made by cmd/image,
// which .ci/run runs) instead of building one; the version the binary must
// print is the tag's. Without it the tests build the binary in a child
// process, whose inputs go test's cache does not see (it sees the main
// module's packages this package imports, not cmd/kubeguard or the go
// build's flags): run them with -count=1.
func TestImage(t *testing.T) {
	r, err := ReadRecipe(filepath.Join(root, "deploy", "Dockerfile"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tarPath := archivePath(t)
	a := readArchive(t, tarPath)
	if len(a.manifest) != 1 {
		t.Fatalf("%d images in the archive, want 1", len(a.manifest))
	}
	m := a.manifest[0]
	if len(m.RepoTags) != 1 {
		t.Fatalf("tags %q, want one", m.RepoTags)
	}
	repo, version := splitTag(m.RepoTags[0])
	if want := deployImage(t); repo != want || version == "" {
		t.Errorf("tag %q, want %s:<version>, the image deploy/ runs", m.RepoTags[0], want)
	}
	if len(a.files) != 2+len(m.Layers) {
		t.Errorf("archive holds %d files, want manifest.json, the config and %d layers", len(a.files), len(m.Layers))
	}
	configData := a.files[m.Config]
	if got := "sha256:" + sha256hex(configData); got != m.Config {
		t.Errorf("config %s has digest %s", m.Config, got)
	}
	var cfg imageConfig
	if err := json.Unmarshal(configData, &cfg); err != nil {
		t.Fatalf("config: %v", err)
	}

	// The configuration.
	if cfg.OS != "linux" || cfg.Architecture != runtime.GOARCH {
		t.Errorf("platform %s/%s, want linux/%s", cfg.OS, cfg.Architecture, runtime.GOARCH)
	}
	user := deployUser(t)
	if cfg.Config.User != user || strings.HasPrefix(user, "0:") {
		t.Errorf("user %q, want %s, the non-root user deploy/ runs", cfg.Config.User, user)
	}
	if len(cfg.Config.Entrypoint) != 1 || !strings.HasPrefix(cfg.Config.Entrypoint[0], "/") {
		t.Fatalf("entrypoint %q, want the binary's absolute path alone", cfg.Config.Entrypoint)
	}
	entry := cfg.Config.Entrypoint[0]
	c := cfg.Config
	if c.Cmd != nil || c.Env != nil || c.WorkingDir != "" || c.ExposedPorts != nil || c.Volumes != nil {
		t.Errorf("config declares more than user and entrypoint: %+v", c)
	}

	// The layer: the binary alone.
	if len(m.Layers) != 1 || len(cfg.RootFS.DiffIDs) != 1 {
		t.Fatalf("layers %q, diff_ids %q, want one", m.Layers, cfg.RootFS.DiffIDs)
	}
	zr, err := gzip.NewReader(bytes.NewReader(a.files[m.Layers[0]]))
	if err != nil {
		t.Fatalf("layer: %v", err)
	}
	layer, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("layer: %v", err)
	}
	if got := "sha256:" + sha256hex(layer); got != cfg.RootFS.DiffIDs[0] {
		t.Errorf("layer's diff_id %s, config says %s", got, cfg.RootFS.DiffIDs[0])
	}
	tr := tar.NewReader(bytes.NewReader(layer))
	var files []string
	var binary []byte
	var binMode os.FileMode
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("layer: %v", err)
		}
		files = append(files, h.Name)
		if "/"+h.Name != entry {
			continue
		}
		mode := os.FileMode(h.Mode)
		binMode = mode.Perm()
		if h.Typeflag != tar.TypeReg || h.Uid != 0 || h.Gid != 0 || mode&0o022 != 0 || mode&0o001 == 0 || h.Mode&0o7000 != 0 {
			t.Errorf("%s: type %c, owner %d:%d, mode %o; want a regular file of root's, executable and not writable by others, without setuid", h.Name, h.Typeflag, h.Uid, h.Gid, h.Mode)
		}
		if binary, err = io.ReadAll(tr); err != nil {
			t.Fatal(err)
		}
	}
	if len(files) != 1 || binary == nil {
		t.Fatalf("layer holds %q, want the entrypoint %s alone", files, entry)
	}

	// The binary: static, of this module's command, built as the recipe says.
	f, err := elf.NewFile(bytes.NewReader(binary))
	if err != nil {
		t.Fatalf("entrypoint is not an ELF file: %v", err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary asks for a dynamic loader; the image has none")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) != 0 {
		t.Errorf("the binary needs %q; the image has no library", libs)
	}
	// -ldflags="-s -w": no symbol table, no DWARF (the build info does
	// not record -ldflags under -trimpath).
	for _, s := range f.Sections {
		if s.Name == ".symtab" || strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
			t.Errorf("the binary has section %s; the recipe strips it (-s -w)", s.Name)
		}
	}
	info, err := buildinfo.Read(bytes.NewReader(binary))
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if info.Path != "github.com/kubeguard/kubeguard/cmd/kubeguard" || settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" {
		t.Errorf("binary of %s built with %v, want ./cmd/kubeguard, CGO_ENABLED=0, -trimpath", info.Path, settings)
	}

	// The binary runs in a root filesystem of the layer alone, as the
	// image's user, with no environment: no /etc, no /tmp, no CA bundle.
	rootfs := newRootfs(t, entry, binary, binMode)
	run := func(stdin string, args ...string) (string, int) {
		t.Helper()
		out, _, code := runIn(t, rootfs, entry, cfg.Config.User, nil, stdin, args...)
		return out, code
	}
	if out, code := run("", "version"); code != 0 || !strings.HasPrefix(out, "kubeguard "+version+" ") {
		t.Errorf("version: %q, exit %d; want kubeguard %s", out, code, version)
	}
	pod := `apiVersion: v1
kind: Pod
metadata: {name: p, namespace: x}
spec:
  containers:
  - name: c
    image: nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000
    securityContext: {privileged: true}
`
	if out, code := run(pod, "scan", "-", "-o", "json"); code != 1 || !strings.Contains(out, `"checkID": "pss-privileged"`) {
		t.Errorf("scan of a privileged pod: exit %d, want 1 and pss-privileged in:\n%.2000s", code, out)
	}

	// The recipe makes the same image again from the same binary: the
	// archive is the Dockerfile's image, and the build is reproducible.
	again, err := Build(r, filepath.Join(rootfs, entry))
	if err != nil {
		t.Fatal(err)
	}
	if name, err := again.ConfigName(); err != nil || name.String() != m.Config {
		t.Errorf("the recipe's image of the archive's binary has config %v (%v), the archive's is %s", name, err, m.Config)
	}
}
