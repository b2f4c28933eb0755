// Package image builds the kubeguard container image without a container
// daemon, from deploy/Dockerfile itself: the Dockerfile is the one place
// that says how the binary is built and what the image holds, and this
// package reads it, refusing every instruction whose effect it does not
// reproduce, so that the image it makes is the one 'docker build' would
// make from the same file (but for the base of the build stage, whose only
// contribution is the Go toolchain, here the host's).
package image

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Recipe is what deploy/Dockerfile says, in the terms this package
// reproduces.
type Recipe struct {
	// Build is the build stage's go build, as an argument list after
	// "go", with the output flag's path in Output.
	Build []string
	// Env is the environment the go build command sets (CGO_ENABLED=0).
	Env []string
	// Output is the path the build writes the binary to (-o).
	Output string
	// Args are the build stage's ARGs with their defaults.
	Args map[string]string
	// Path is where the image holds the binary (the COPY's target).
	Path string
	// User is the image's numeric user, "uid:gid".
	User string
	// Entrypoint is the image's entrypoint, in exec form.
	Entrypoint []string
}

// instruction is one Dockerfile instruction.
type instruction struct {
	op   string // upper case
	args string
	line int
}

// parse splits a Dockerfile into instructions: comments and blank lines
// dropped, lines ending in a backslash joined to the next (comment lines
// inside such a continuation are dropped, as docker does). Parser
// directives (a first line '# escape=`') are refused: they change how the
// rest reads.
func parse(data string) ([]instruction, error) {
	var out []instruction
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(data, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			if len(out) == 0 && cur.Len() == 0 && regexp.MustCompile(`^#\s*(?i:escape|syntax|check)\s*=`).MatchString(trimmed) {
				return nil, fmt.Errorf("line %d: parser directive %q is not understood", i+1, trimmed)
			}
			continue
		}
		if trimmed == "" {
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
		out = append(out, instruction{strings.ToUpper(op), strings.TrimSpace(args), start})
		cur.Reset()
	}
	if cur.Len() > 0 {
		return nil, fmt.Errorf("line %d: continuation runs past the end of the file", start)
	}
	return out, nil
}

// ReadRecipe reads a Dockerfile (deploy/Dockerfile), with the values of
// its ARGs that buildArgs gives (as docker build's --build-arg).
func ReadRecipe(path string, buildArgs map[string]string) (*Recipe, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read recipe: %w", err)
	}
	r, err := ParseRecipe(string(data), buildArgs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

var (
	fromBuild = regexp.MustCompile(`^(?i)(\S+)\s+as\s+(\S+)$`)
	numUser   = regexp.MustCompile(`^([0-9]+):([0-9]+)$`)
	argDecl   = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$`)
)

// ParseRecipe reads the text of a Dockerfile of exactly two stages: a
// build stage whose last instruction is the go build of the binary, and
// the image, FROM scratch, that copies that binary in and sets USER and
// ENTRYPOINT. Anything else is an error naming its line. buildArgs give
// ARGs values; one the build stage does not declare is an error.
func ParseRecipe(data string, buildArgs map[string]string) (*Recipe, error) {
	ins, err := parse(data)
	if err != nil {
		return nil, err
	}
	var stages [][]instruction
	for _, in := range ins {
		if in.op == "FROM" {
			stages = append(stages, nil)
		} else if len(stages) == 0 {
			return nil, fmt.Errorf("line %d: %s before FROM", in.line, in.op)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	if len(stages) != 2 {
		return nil, fmt.Errorf("%d stages, want two: the build and the image", len(stages))
	}
	r := &Recipe{Args: map[string]string{}}
	stage, err := r.readBuild(stages[0], buildArgs)
	if err != nil {
		return nil, err
	}
	if err := r.readImage(stages[1], stage); err != nil {
		return nil, err
	}
	return r, nil
}

// readBuild reads the build stage and returns its name. Its base image
// only brings the toolchain; WORKDIR and COPY from the context only lay
// the sources out; 'go mod download' only fills the module cache; ARG
// declares what the build command may use. The last instruction must be
// the go build, and nothing else may change what it does.
func (r *Recipe) readBuild(stage []instruction, buildArgs map[string]string) (string, error) {
	m := fromBuild.FindStringSubmatch(stage[0].args)
	if m == nil {
		return "", fmt.Errorf("line %d: build stage FROM %q has no name (FROM <image> AS <name>)", stage[0].line, stage[0].args)
	}
	name := m[2]
	built := false
	for _, in := range stage[1:] {
		if built {
			return "", fmt.Errorf("line %d: %s after the go build", in.line, in.op)
		}
		switch in.op {
		case "WORKDIR":
		case "COPY":
			if strings.HasPrefix(in.args, "--") {
				return "", fmt.Errorf("line %d: COPY %s: flags are not understood in the build stage", in.line, in.args)
			}
		case "ARG":
			a := argDecl.FindStringSubmatch(in.args)
			if a == nil {
				return "", fmt.Errorf("line %d: ARG %q is not understood", in.line, in.args)
			}
			v, err := unquote(a[2])
			if err != nil {
				return "", fmt.Errorf("line %d: ARG %s: %w", in.line, in.args, err)
			}
			if b, ok := buildArgs[a[1]]; ok {
				v = b
			}
			r.Args[a[1]] = v
		case "RUN":
			if in.args == "go mod download" {
				continue
			}
			if err := r.readGoBuild(in.args); err != nil {
				return "", fmt.Errorf("line %d: %w", in.line, err)
			}
			built = true
		default:
			return "", fmt.Errorf("line %d: %s is not understood in the build stage", in.line, in.op)
		}
	}
	if !built {
		return "", fmt.Errorf("build stage %s has no go build", name)
	}
	for k := range buildArgs {
		if _, ok := r.Args[k]; !ok {
			return "", fmt.Errorf("build arg %s is not an ARG of the build stage", k)
		}
	}
	return name, nil
}

// readGoBuild reads 'NAME=value ... go build <flags> <package>'.
func (r *Recipe) readGoBuild(cmd string) error {
	words, err := r.split(cmd)
	if err != nil {
		return err
	}
	for len(words) > 0 && argDecl.MatchString(words[0]) && strings.Contains(words[0], "=") {
		r.Env = append(r.Env, words[0])
		words = words[1:]
	}
	if len(words) < 2 || words[0] != "go" || words[1] != "build" {
		return fmt.Errorf("RUN %q is neither 'go mod download' nor a go build", cmd)
	}
	r.Build = words[1:]
	for i, w := range r.Build {
		if w == "-o" && i+1 < len(r.Build) {
			r.Output = r.Build[i+1]
		}
		if strings.HasPrefix(w, "-o=") {
			r.Output = strings.TrimPrefix(w, "-o=")
		}
	}
	if r.Output == "" {
		return fmt.Errorf("go build %q names no output file (-o)", cmd)
	}
	return nil
}

// split splits a shell command of plain words and double-quoted strings,
// expanding $NAME and ${NAME} from the stage's ARGs. Whatever else a shell
// would read differently (operators, single quotes, escapes, command
// substitution, globs, an undeclared variable) is refused.
func (r *Recipe) split(cmd string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		switch {
		case c == '"':
			quoted, inWord = !quoted, true
		case c == '$':
			name, n := varName(cmd[i+1:])
			if name == "" {
				return nil, fmt.Errorf("%q: '$' at %d is not a variable", cmd, i)
			}
			v, ok := r.Args[name]
			if !ok {
				return nil, fmt.Errorf("%q: $%s is not an ARG of the stage", cmd, name)
			}
			if !quoted && strings.ContainsAny(v, " \t\n") {
				return nil, fmt.Errorf("%q: unquoted $%s holds blanks, which a shell would split", cmd, name)
			}
			w.WriteString(v)
			inWord = true
			i += n
		case !quoted && (c == ' ' || c == '\t'):
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case strings.IndexByte("\\`'", c) >= 0, !quoted && strings.IndexByte(";&|<>()*?[]{}~#", c) >= 0:
			return nil, fmt.Errorf("%q: %q at %d is not understood", cmd, c, i)
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("%q: unterminated quote", cmd)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

// varName reads NAME or {NAME} after a '$' and says how many bytes it took.
func varName(s string) (string, int) {
	if strings.HasPrefix(s, "{") {
		end := strings.IndexByte(s, '}')
		if end < 0 || !argDecl.MatchString(s[1:end]) || strings.Contains(s[1:end], "=") {
			return "", 0
		}
		return s[1:end], end + 1
	}
	n := 0
	for n < len(s) && (s[n] == '_' || s[n] >= 'a' && s[n] <= 'z' || s[n] >= 'A' && s[n] <= 'Z' || n > 0 && s[n] >= '0' && s[n] <= '9') {
		n++
	}
	return s[:n], n
}

// unquote reads an ARG default: a plain word or a double-quoted string
// without escapes or variables.
func unquote(s string) (string, error) {
	if strings.HasPrefix(s, `"`) {
		if len(s) < 2 || !strings.HasSuffix(s, `"`) || strings.ContainsAny(s[1:len(s)-1], "\"\\$") {
			return "", fmt.Errorf("default %s is not understood", s)
		}
		return s[1 : len(s)-1], nil
	}
	if strings.ContainsAny(s, "\"'\\$ \t") {
		return "", fmt.Errorf("default %s is not understood", s)
	}
	return s, nil
}

// readImage reads the image stage: FROM scratch, one COPY of the build's
// output from the build stage, a numeric USER and an exec-form ENTRYPOINT.
func (r *Recipe) readImage(stage []instruction, build string) error {
	if stage[0].args != "scratch" {
		return fmt.Errorf("line %d: image FROM %q: only scratch is built here (a base image's files cannot be fetched)", stage[0].line, stage[0].args)
	}
	seen := map[string]bool{}
	for _, in := range stage[1:] {
		if seen[in.op] {
			return fmt.Errorf("line %d: a second %s", in.line, in.op)
		}
		seen[in.op] = true
		switch in.op {
		case "COPY":
			f := strings.Fields(in.args)
			if len(f) != 3 || f[0] != "--from="+build || f[1] != r.Output || !strings.HasPrefix(f[2], "/") || strings.HasSuffix(f[2], "/") {
				return fmt.Errorf("line %d: COPY %s: want --from=%s %s /<file>", in.line, in.args, build, r.Output)
			}
			r.Path = f[2]
		case "USER":
			u := numUser.FindStringSubmatch(in.args)
			if u == nil {
				return fmt.Errorf("line %d: USER %q: want numeric uid:gid (the image has no /etc/passwd)", in.line, in.args)
			}
			for _, id := range u[1:] {
				if _, err := strconv.ParseUint(id, 10, 31); err != nil {
					return fmt.Errorf("line %d: USER %q: %w", in.line, in.args, err)
				}
			}
			r.User = in.args
		case "ENTRYPOINT":
			ep, err := execForm(in.args)
			if err != nil {
				return fmt.Errorf("line %d: ENTRYPOINT %s: %w", in.line, in.args, err)
			}
			r.Entrypoint = ep
		default:
			return fmt.Errorf("line %d: %s is not understood in the image stage", in.line, in.op)
		}
	}
	for _, op := range []string{"COPY", "USER", "ENTRYPOINT"} {
		if !seen[op] {
			return fmt.Errorf("image stage has no %s", op)
		}
	}
	if r.Entrypoint[0] != r.Path {
		return fmt.Errorf("ENTRYPOINT %q does not run the binary copied to %s (the image has nothing else)", r.Entrypoint, r.Path)
	}
	return nil
}

// execForm reads a JSON array of plain strings: the shell form would need
// a shell the image does not have.
func execForm(s string) ([]string, error) {
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return nil, fmt.Errorf("want the exec form [\"...\"]: the image has no shell")
	}
	var out []string
	for _, part := range strings.Split(s[1:len(s)-1], ",") {
		part = strings.TrimSpace(part)
		if len(part) < 2 || part[0] != '"' || part[len(part)-1] != '"' || strings.ContainsAny(part[1:len(part)-1], "\"\\") {
			return nil, fmt.Errorf("element %s is not understood", part)
		}
		out = append(out, part[1:len(part)-1])
	}
	return out, nil
}
