package pss

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The regular expressions names was first written with; namesByRegexp
// is the reference the hand-written reader is held to.
var (
	quotedList = regexp.MustCompile(`^ ("(?:[^"\\]|\\.)*"(?:, "(?:[^"\\]|\\.)*")*)`)
	quotedItem = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
)

func namesByRegexp(detail, noun string) []string {
	var out []string
	for i := 0; i < len(detail); {
		j := strings.Index(detail[i:], noun)
		if j < 0 {
			break
		}
		i += j + len(noun)
		if j := i - len(noun) - 1; j >= 0 && detail[j] != ' ' && detail[j] != ';' {
			continue
		}
		rest := strings.TrimPrefix(detail[i:], "s")
		m := quotedList.FindStringSubmatch(rest)
		if m == nil {
			continue
		}
		for _, q := range quotedItem.FindAllString(m[1], -1) {
			if s, err := strconv.Unquote(q); err == nil {
				out = append(out, s)
			}
		}
	}
	return out
}

var namesSeeds = []string{
	``,
	`container "a" must set securityContext.allowPrivilegeEscalation=false`,
	`containers "a", "b" must set securityContext.allowPrivilegeEscalation=false`,
	`pod or containers "app", "sidecar" must set securityContext.runAsNonRoot=true`,
	`containers "a", "b" must set securityContext.capabilities.drop=["ALL"]; container "c" must not include "SYS_ADMIN" in securityContext.capabilities.add`,
	`restricted volume types: volumes "data", "logs" use restricted volume type "hostPath"`,
	`hostPath volumes "a\"b", "c\\d"`,
	`container "unterminated`,
	`containers "a", "b`,
	`containers "a",  "b"`,
	`containers "a" ,"b"`,
	`subcontainer "x"`,
	`;container "x"`,
	`container"x"`,
	`container "line` + "\n" + `break"`,
	`container "esc\` + "\n" + `"`,
	`container "\x"`,
	`container "\u00e9"`,
	`container "caf` + "\xe9" + `"`,
	`container "\` + "\xe9" + `"`,
	`container "ok", "` + "\xff\"" + `, "z"`,
	`container "a\tb"`,
	`container "a` + "\t" + `b"`,
	`containers "x"containers "y"`,
	`container ""`,
	`container "", ""`,
	`containers`,
	`containers `,
	`container "a", "b", `,
	`container "é", "日本"`,
}

func TestNamesMatchesRegexp(t *testing.T) {
	for _, d := range namesSeeds {
		for _, noun := range []string{"container", "volume"} {
			if diff := cmp.Diff(namesByRegexp(d, noun), names(nil, d, noun)); diff != "" {
				t.Errorf("names(%q, %q) (-regexp +hand):\n%s", d, noun, diff)
			}
		}
	}
}

func FuzzNamesMatchesRegexp(f *testing.F) {
	for _, d := range namesSeeds {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, d string) {
		if diff := cmp.Diff(namesByRegexp(d, "container"), names(nil, d, "container")); diff != "" {
			t.Errorf("names(%q) (-regexp +hand):\n%s", d, diff)
		}
	})
}
