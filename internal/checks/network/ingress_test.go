package network

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
)

func TestTLSCovers(t *testing.T) {
	tls := func(hosts ...string) []networkingv1.IngressTLS {
		return []networkingv1.IngressTLS{{Hosts: hosts, SecretName: "tls"}}
	}
	tests := []struct {
		name string
		tls  []networkingv1.IngressTLS
		host string
		want bool
	}{
		{name: "exact", tls: tls("a.example.com"), host: "a.example.com", want: true},
		{name: "other host", tls: tls("a.example.com"), host: "b.example.com", want: false},
		{name: "case", tls: tls("A.example.com"), host: "a.EXAMPLE.com", want: true},
		{name: "wildcard one label", tls: tls("*.example.com"), host: "a.example.com", want: true},
		{name: "wildcard two labels", tls: tls("*.example.com"), host: "a.b.example.com", want: false},
		{name: "wildcard apex", tls: tls("*.example.com"), host: "example.com", want: false},
		{name: "wildcard itself", tls: tls("*.example.com"), host: "*.example.com", want: true},
		{name: "narrower wildcard", tls: tls("*.example.com"), host: "*.a.example.com", want: false},
		{name: "no hosts covers all", tls: tls(), host: "a.example.com", want: true},
		{name: "no hosts covers hostless rule", tls: tls(), host: "", want: true},
		{name: "hostless rule", tls: tls("a.example.com"), host: "", want: false},
		{name: "no tls", tls: nil, host: "a.example.com", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tlsCovers(tt.tls, tt.host); got != tt.want {
				t.Errorf("tlsCovers(%v, %q) = %v, want %v", tt.tls, tt.host, got, tt.want)
			}
		})
	}
}
