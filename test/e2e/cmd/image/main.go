// Command image builds the kubeguard container image from
// deploy/Dockerfile without a container daemon (see package image) and
// writes it as a docker-archive tarball:
//
//	go run ./cmd/image -build-arg VERSION=v0.1.0 -o kubeguard.tar
//	docker load -i kubeguard.tar
//
// The tag defaults to ghcr.io/kubeguard/kubeguard:<VERSION>, the name
// deploy/ runs; TestImage reads the version the binary must print from it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kubeguard/kubeguard/test/e2e/image"
)

// repository is the image's name in deploy/'s manifests.
const repository = "ghcr.io/kubeguard/kubeguard"

// buildArgs collects -build-arg NAME=value flags.
type buildArgs map[string]string

func (b buildArgs) String() string { return fmt.Sprint(map[string]string(b)) }

func (b buildArgs) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want NAME=value, got %q", s)
	}
	b[k] = v
	return nil
}

func main() {
	args := buildArgs{}
	root := flag.String("root", "../..", "the build context: the repository's root")
	dockerfile := flag.String("f", "", "the Dockerfile (default <root>/deploy/Dockerfile)")
	tag := flag.String("t", "", "the image's tag in the archive (default "+repository+":<VERSION, or dev>)")
	out := flag.String("o", "kubeguard.tar", "the docker-archive tarball to write")
	flag.Var(args, "build-arg", "an ARG's value, NAME=value (repeatable)")
	flag.Parse()
	if *tag == "" {
		*tag = repository + ":dev"
		if v := args["VERSION"]; v != "" {
			*tag = repository + ":" + v
		}
	}
	if *dockerfile == "" {
		*dockerfile = filepath.Join(*root, "deploy", "Dockerfile")
	}
	if err := run(context.Background(), *root, *dockerfile, *tag, *out, args); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, root, dockerfile, tag, out string, args buildArgs) error {
	r, err := image.ReadRecipe(dockerfile, args)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "kubeguard-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := image.BuildBinary(ctx, r, root, dir)
	if err != nil {
		return err
	}
	img, err := image.Build(r, bin)
	if err != nil {
		return err
	}
	if err := image.WriteArchive(out, tag, img); err != nil {
		return err
	}
	d, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s %s %s\n", out, tag, d)
	return nil
}
