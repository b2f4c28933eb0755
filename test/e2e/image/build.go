package image

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/buildinfo"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// BuildBinary runs the recipe's go build in the module root (the build
// context of 'docker build -f deploy/Dockerfile .'), writing the binary
// into dir instead of the recipe's output path, and returns its path.
func BuildBinary(ctx context.Context, r *Recipe, root, dir string) (string, error) {
	out := filepath.Join(dir, filepath.Base(r.Output))
	args := slices.Clone(r.Build)
	for i, a := range args {
		switch {
		case a == "-o" && i+1 < len(args):
			args[i+1] = out
		case strings.HasPrefix(a, "-o="):
			args[i] = "-o=" + out
		}
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	// As in the build stage: linux, no workspace (the context has no
	// go.work) and no GOFLAGS of the host's.
	cmd.Env = append(append(os.Environ(), "GOOS=linux", "GOWORK=off", "GOFLAGS="), r.Env...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// epoch is the time the image and its file are stamped with, so that the
// same binary always makes the same image (the same digest).
var epoch = time.Unix(0, 0).UTC()

// Build makes the image the recipe's image stage describes, around the
// binary at path: one layer holding that file alone at r.Path (owned by
// root, with the binary's mode, as COPY leaves it), the numeric user and
// the exec-form entrypoint, for linux and the binary's architecture.
func Build(r *Recipe, path string) (v1.Image, error) {
	bin, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read binary: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("stat binary: %w", err)
	}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("binary %s: %w", path, err)
	}
	var goos, goarch string
	for _, s := range info.Settings {
		switch s.Key {
		case "GOOS":
			goos = s.Value
		case "GOARCH":
			goarch = s.Value
		}
	}
	if goos != "linux" || goarch == "" {
		return nil, fmt.Errorf("binary %s is for %s/%s, want linux", path, goos, goarch)
	}

	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     strings.TrimPrefix(r.Path, "/"),
		Mode:     int64(fi.Mode().Perm()),
		Size:     int64(len(bin)),
		ModTime:  epoch,
		Format:   tar.FormatPAX,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	if _, err := tw.Write(bin); err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	data := layer.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	})
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer:   l,
		History: v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "COPY " + r.Output + " " + r.Path},
	})
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: epoch}
	cf.OS, cf.Architecture = goos, goarch
	cf.Config.User = r.User
	cf.Config.Entrypoint = slices.Clone(r.Entrypoint)
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	return img, nil
}

// WriteArchive writes img as a docker-archive tarball tagged tag, which
// 'docker load', 'podman load' and 'kind load image-archive' read.
func WriteArchive(path, tag string, img v1.Image) error {
	ref, err := name.NewTag(tag, name.StrictValidation)
	if err != nil {
		return fmt.Errorf("tag %q: %w", tag, err)
	}
	if err := tarball.WriteToFile(path, ref, img); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
