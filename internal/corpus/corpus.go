// Package corpus generates a deterministic corpus of Kubernetes workload
// manifests for benchmarks: Deployments, StatefulSets, DaemonSets, Jobs,
// CronJobs, Pods and ReplicaSets with realistic pod specs (several
// containers, probes, resources, env, volumes, annotations), many of them
// insecure and some hardened, plus a few Namespaces carrying Pod Security
// labels. The same options always give the same bytes.
package corpus

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Options say what to generate.
type Options struct {
	// N is the number of workload objects.
	N int
	// Seed makes the corpus; the same seed gives the same corpus.
	Seed uint64
	// Single puts every document in one multi-document file.
	Single bool
}

// Stats describe a generated corpus.
type Stats struct {
	Files     int
	Documents int
	Bytes     int64
	Kinds     map[string]int
}

// Namespaces is the number of namespaces objects are spread over; the first
// few of them are declared as Namespace objects with Pod Security labels.
const Namespaces = 40

// File is one generated file: a path relative to the corpus root and its
// text.
type File struct {
	Name string
	Data []byte
}

// Generate calls fn with each file of the corpus, in a stable order.
func Generate(o Options, fn func(File) error) (Stats, error) {
	g := &generator{r: rand.New(rand.NewPCG(o.Seed, 0x6b756265677561)), st: Stats{Kinds: map[string]int{}}}
	emit := func(f File) error {
		g.st.Files++
		g.st.Bytes += int64(len(f.Data))
		return fn(f)
	}
	var single []byte
	ns := g.namespaces()
	if o.Single {
		single = append(single, ns...)
	} else if err := emit(File{Name: "namespaces.yaml", Data: ns}); err != nil {
		return g.st, err
	}
	for i := 0; i < o.N; {
		// A file holds one to six objects of one namespace, as an
		// application's manifests usually do.
		n := min(1+g.r.IntN(6), o.N-i)
		namespace := g.namespace()
		app := pick(g.r, apps)
		var b []byte
		for k := range n {
			if k > 0 || len(single) > 0 {
				b = append(b, "---\n"...)
			}
			b = g.object(b, i+k, namespace, app)
		}
		if o.Single {
			single = append(single, b...)
		} else {
			name := filepath.Join(namespace, fmt.Sprintf("%s-%05d.yaml", app, i))
			if err := emit(File{Name: name, Data: b}); err != nil {
				return g.st, err
			}
		}
		i += n
	}
	if o.Single {
		if err := emit(File{Name: "all.yaml", Data: single}); err != nil {
			return g.st, err
		}
	}
	return g.st, nil
}

// Write generates the corpus into dir, creating directories as needed.
func Write(dir string, o Options) (Stats, error) {
	return Generate(o, func(f File) error {
		p := filepath.Join(dir, f.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, f.Data, 0o644)
	})
}

type generator struct {
	r  *rand.Rand
	st Stats
	// rich objects have the full set of env, probes, volumes and
	// annotations; the others are the short manifests of small services.
	rich bool
}

var (
	apps = []string{"checkout", "cart", "payments", "search", "catalog", "auth", "gateway", "orders",
		"inventory", "shipping", "billing", "notifications", "reports", "metrics", "ingest", "scheduler",
		"frontend", "backend", "recommender", "ledger"}
	components = []string{"api", "worker", "web", "cache", "db", "sync", "cron", "proxy", "agent", "exporter"}
	registries = []string{"registry.example.com/shop/", "ghcr.io/acme/", "docker.io/library/", "quay.io/acme/",
		"123456789012.dkr.ecr.eu-west-1.amazonaws.com/", ""}
	images    = []string{"nginx", "redis", "postgres", "busybox", "envoy", "python", "node", "golang", "alpine", "openjdk"}
	hostPaths = []string{"/var/run/docker.sock", "/var/log", "/", "/etc", "/proc", "/var/lib/kubelet", "/sys"}
	caps      = []string{"NET_ADMIN", "SYS_ADMIN", "SYS_PTRACE", "NET_RAW", "SYS_TIME", "NET_BIND_SERVICE"}
	envNames  = []string{"LOG_LEVEL", "PORT", "GOMAXPROCS", "JAVA_OPTS", "REGION", "FEATURE_FLAGS", "TZ", "HTTP_PROXY"}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// namespace picks a namespace, the lower-numbered ones more often.
func (g *generator) namespace() string {
	n := g.r.IntN(Namespaces)
	if g.r.IntN(2) == 0 {
		n /= 4
	}
	return fmt.Sprintf("team-%02d", n)
}

// namespaces declares the first namespaces with Pod Security labels of
// every mode, as a platform team would.
func (g *generator) namespaces() []byte {
	levels := []string{"baseline", "restricted", "privileged"}
	var b []byte
	for i := range 8 {
		if i > 0 {
			b = append(b, "---\n"...)
		}
		b = fmt.Appendf(b, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-%02d\n  labels:\n", i)
		b = fmt.Appendf(b, "    kubernetes.io/metadata.name: team-%02d\n", i)
		b = fmt.Appendf(b, "    pod-security.kubernetes.io/enforce: %s\n", levels[i%3])
		if i%2 == 0 {
			b = append(b, "    pod-security.kubernetes.io/enforce-version: latest\n"...)
		}
		b = fmt.Appendf(b, "    pod-security.kubernetes.io/audit: restricted\n    pod-security.kubernetes.io/warn: %s\n", levels[(i+1)%2])
		g.st.Documents++
		g.st.Kinds["Namespace"]++
	}
	return b
}

// profile is how an object's pods are secured.
type profile int

const (
	unset    profile = iota // no security context at all
	insecure                // one or more dangerous settings
	partial                 // some hardening, not enough for restricted
	hardened                // passes the restricted level
)

func (g *generator) profile() profile {
	switch p := g.r.IntN(100); {
	case p < 35:
		return unset
	case p < 70:
		return insecure
	case p < 88:
		return partial
	default:
		return hardened
	}
}

var kindWeights = []struct {
	kind   string
	weight int
}{
	{"Deployment", 30}, {"Pod", 20}, {"StatefulSet", 12}, {"ReplicaSet", 12},
	{"Job", 10}, {"DaemonSet", 8}, {"CronJob", 8},
}

func (g *generator) kind() string {
	n := g.r.IntN(100)
	for _, k := range kindWeights {
		if n < k.weight {
			return k.kind
		}
		n -= k.weight
	}
	return "Deployment"
}

// object appends one workload document.
func (g *generator) object(b []byte, i int, namespace, app string) []byte {
	kind := g.kind()
	g.rich = g.r.IntN(100) < 22
	g.st.Documents++
	g.st.Kinds[kind]++
	comp := pick(g.r, components)
	name := fmt.Sprintf("%s-%s-%d", app, comp, i)
	if g.r.IntN(5) == 0 {
		b = fmt.Appendf(b, "# Source: %s/templates/%s.yaml\n", app, strings.ToLower(kind))
	}
	apiVersion := "apps/v1"
	switch kind {
	case "Pod":
		apiVersion = "v1"
	case "Job", "CronJob":
		apiVersion = "batch/v1"
	}
	b = fmt.Appendf(b, "apiVersion: %s\nkind: %s\nmetadata:\n  name: %s\n  namespace: %s\n", apiVersion, kind, name, namespace)
	b = g.labels(b, 2, app, comp, true)
	if g.rich && g.r.IntN(2) == 0 {
		b = append(b, "  annotations:\n"...)
		b = fmt.Appendf(b, "    meta.helm.sh/release-name: %s\n    meta.helm.sh/release-namespace: %s\n", app, namespace)
		if g.r.IntN(3) == 0 {
			b = fmt.Appendf(b, "    deployment.kubernetes.io/revision: \"%d\"\n", 1+g.r.IntN(40))
		}
	}
	prof := g.profile()
	ind := 2
	b = append(b, "spec:\n"...)
	switch kind {
	case "Pod":
		return g.podSpec(b, ind, app, comp, prof, kind)
	case "Deployment", "StatefulSet", "ReplicaSet":
		b = fmt.Appendf(b, "  replicas: %d\n", 1+g.r.IntN(5))
		if kind == "StatefulSet" {
			b = fmt.Appendf(b, "  serviceName: %s\n", name)
		}
		if kind == "Deployment" && g.r.IntN(2) == 0 {
			b = append(b, "  strategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 25%\n      maxUnavailable: 0\n"...)
		}
		b = g.selector(b, app, comp)
	case "DaemonSet":
		b = g.selector(b, app, comp)
		b = append(b, "  updateStrategy:\n    type: RollingUpdate\n"...)
	case "Job":
		b = fmt.Appendf(b, "  backoffLimit: %d\n  ttlSecondsAfterFinished: 3600\n", g.r.IntN(6))
	case "CronJob":
		b = fmt.Appendf(b, "  schedule: \"%d */%d * * *\"\n  concurrencyPolicy: Forbid\n  successfulJobsHistoryLimit: 3\n", g.r.IntN(60), 1+g.r.IntN(6))
		b = append(b, "  jobTemplate:\n    spec:\n      backoffLimit: 2\n"...)
		ind = 6
	}
	pad := strings.Repeat(" ", ind)
	b = fmt.Appendf(b, "%stemplate:\n%s  metadata:\n", pad, pad)
	b = g.labels(b, ind+4, app, comp, false)
	if g.rich && g.r.IntN(3) > 0 {
		b = fmt.Appendf(b, "%s    annotations:\n", pad)
		b = fmt.Appendf(b, "%s      prometheus.io/scrape: \"true\"\n%s      prometheus.io/port: \"%d\"\n", pad, pad, 9000+g.r.IntN(100))
		b = fmt.Appendf(b, "%s      checksum/config: %016x%016x%016x%016x\n", pad, g.r.Uint64(), g.r.Uint64(), g.r.Uint64(), g.r.Uint64())
	}
	b = fmt.Appendf(b, "%s  spec:\n", pad)
	return g.podSpec(b, ind+4, app, comp, prof, kind)
}

func (g *generator) labels(b []byte, ind int, app, comp string, full bool) []byte {
	pad := strings.Repeat(" ", ind)
	b = fmt.Appendf(b, "%slabels:\n%s  app.kubernetes.io/name: %s\n%s  app.kubernetes.io/component: %s\n", pad, pad, app, pad, comp)
	if full && g.rich {
		b = fmt.Appendf(b, "%s  app.kubernetes.io/part-of: shop\n%s  app.kubernetes.io/managed-by: Helm\n", pad, pad)
		b = fmt.Appendf(b, "%s  app.kubernetes.io/version: \"%d.%d.%d\"\n", pad, 1+g.r.IntN(3), g.r.IntN(20), g.r.IntN(10))
	}
	return b
}

func (g *generator) selector(b []byte, app, comp string) []byte {
	return fmt.Appendf(b, "  selector:\n    matchLabels:\n      app.kubernetes.io/name: %s\n      app.kubernetes.io/component: %s\n", app, comp)
}

// podSpec appends a pod spec whose keys sit at indent ind.
func (g *generator) podSpec(b []byte, ind int, app, comp string, prof profile, kind string) []byte {
	pad := strings.Repeat(" ", ind)
	line := func(format string, args ...any) {
		b = append(b, pad...)
		b = fmt.Appendf(b, format, args...)
		b = append(b, '\n')
	}
	if kind == "Job" || kind == "CronJob" {
		line("restartPolicy: OnFailure")
	}
	if g.r.IntN(3) > 0 {
		line("serviceAccountName: %s", app)
	}
	if prof == hardened || g.r.IntN(4) == 0 {
		line("automountServiceAccountToken: false")
	}
	host := prof == insecure && (kind == "DaemonSet" || g.r.IntN(4) == 0)
	if host {
		switch g.r.IntN(3) {
		case 0:
			line("hostNetwork: true")
			line("dnsPolicy: ClusterFirstWithHostNet")
		case 1:
			line("hostPID: true")
		default:
			line("hostIPC: true")
		}
	}
	switch prof {
	case hardened:
		line("securityContext:")
		line("  runAsNonRoot: true")
		line("  runAsUser: %d", 1000+g.r.IntN(60000))
		line("  fsGroup: 2000")
		line("  seccompProfile:")
		line("    type: RuntimeDefault")
	case partial:
		line("securityContext:")
		line("  runAsNonRoot: true")
		if g.r.IntN(2) == 0 {
			line("  fsGroup: 2000")
		}
	case insecure:
		if g.r.IntN(3) == 0 {
			line("securityContext:")
			line("  runAsUser: 0")
			if g.r.IntN(3) == 0 {
				line("  seccompProfile:")
				line("    type: Unconfined")
			}
			if g.r.IntN(4) == 0 {
				line("  sysctls:")
				line("  - name: net.core.somaxconn")
				line("    value: \"1024\"")
			}
		}
	}
	if g.r.IntN(5) == 0 {
		line("nodeSelector:")
		line("  kubernetes.io/os: linux")
	}
	if kind == "DaemonSet" || g.r.IntN(8) == 0 {
		line("tolerations:")
		line("- key: node-role.kubernetes.io/control-plane")
		line("  operator: Exists")
		line("  effect: NoSchedule")
	}
	if g.r.IntN(6) == 0 {
		line("terminationGracePeriodSeconds: %d", 10+g.r.IntN(50))
	}
	var volumes []string
	hostPathVol := prof == insecure && g.r.IntN(2) == 0
	if g.rich && g.r.IntN(2) == 0 {
		volumes = append(volumes, "config")
	}
	if g.rich && g.r.IntN(3) == 0 {
		volumes = append(volumes, "tmp")
	}
	if g.rich && g.r.IntN(4) == 0 {
		volumes = append(volumes, "secrets")
	}
	if hostPathVol {
		volumes = append(volumes, "host")
	}
	if g.r.IntN(8) == 0 {
		line("initContainers:")
		b = g.container(b, ind, app, "init", prof, 0, volumes, true)
	}
	line("containers:")
	n := 1
	if g.r.IntN(4) == 0 {
		n++
		if g.r.IntN(4) == 0 {
			n++
		}
	}
	for k := range n {
		name := comp
		if k > 0 {
			name = pick(g.r, []string{"sidecar", "proxy", "log-shipper", "metrics"})
		}
		b = g.container(b, ind, app, name, prof, k, volumes, false)
	}
	if len(volumes) > 0 {
		line("volumes:")
		for _, v := range volumes {
			line("- name: %s", v)
			switch v {
			case "config":
				line("  configMap:")
				line("    name: %s-config", app)
				if g.r.IntN(3) == 0 {
					line("    defaultMode: 0644")
				}
			case "tmp":
				line("  emptyDir: {}")
			case "secrets":
				line("  secret:")
				line("    secretName: %s-tls", app)
			case "host":
				line("  hostPath:")
				line("    path: %s", pick(g.r, hostPaths))
				if g.r.IntN(2) == 0 {
					line("    type: Directory")
				}
			}
		}
	}
	return b
}

func (g *generator) container(b []byte, ind int, app, name string, prof profile, k int, volumes []string, init bool) []byte {
	pad := strings.Repeat(" ", ind)
	line := func(format string, args ...any) {
		b = append(b, pad...)
		b = fmt.Appendf(b, format, args...)
		b = append(b, '\n')
	}
	line("- name: %s", name)
	img := pick(g.r, images)
	reg := pick(g.r, registries)
	switch g.r.IntN(6) {
	case 0:
		line("  image: %s%s", reg, img) // no tag
	case 1:
		line("  image: %s%s:latest", reg, img)
	case 2:
		line("  image: %s%s@sha256:%016x%016x%016x%016x", reg, img, g.r.Uint64(), g.r.Uint64(), g.r.Uint64(), g.r.Uint64())
	default:
		line("  image: \"%s%s:%d.%d.%d\"", reg, img, 1+g.r.IntN(4), g.r.IntN(30), g.r.IntN(12))
	}
	if g.r.IntN(2) == 0 {
		line("  imagePullPolicy: %s", pick(g.r, []string{"IfNotPresent", "Always"}))
	}
	if init {
		line("  command: [\"sh\", \"-c\"]")
		line("  args:")
		line("  - |")
		line("    until nc -z %s-db 5432; do", app)
		line("      echo waiting for database; sleep 2")
		line("    done")
	} else if g.r.IntN(2) == 0 {
		line("  args: [\"--port=%d\", \"--log-level=%s\"]", 8080+k, pick(g.r, []string{"info", "debug", "warn"}))
	}
	if !init && g.r.IntN(4) > 0 {
		line("  ports:")
		line("  - name: http")
		line("    containerPort: %d", 8080+k)
		line("    protocol: TCP")
		if prof == insecure && g.r.IntN(4) == 0 {
			line("    hostPort: %d", 30000+g.r.IntN(2000))
		}
	}
	if ne := g.r.IntN(5); g.rich && ne > 0 {
		line("  env:")
		for e := range ne {
			switch g.r.IntN(4) {
			case 0:
				line("  - name: DB_PASSWORD_%d", e)
				line("    valueFrom:")
				line("      secretKeyRef:")
				line("        name: %s-db", app)
				line("        key: password")
			case 1:
				line("  - name: POD_NAME")
				line("    valueFrom:")
				line("      fieldRef:")
				line("        fieldPath: metadata.name")
			default:
				line("  - name: %s", pick(g.r, envNames))
				line("    value: \"%d\"", g.r.IntN(1000))
			}
		}
	}
	if g.r.IntN(5) > 0 {
		line("  resources:")
		line("    requests:")
		line("      cpu: %dm", 50*(1+g.r.IntN(10)))
		line("      memory: %dMi", 64*(1+g.r.IntN(8)))
		if g.r.IntN(3) > 0 {
			line("    limits:")
			line("      cpu: \"%d\"", 1+g.r.IntN(4))
			line("      memory: %dMi", 256*(1+g.r.IntN(8)))
		}
	}
	if !init && g.rich && g.r.IntN(3) > 0 {
		for _, probe := range []string{"livenessProbe", "readinessProbe"} {
			line("  %s:", probe)
			switch g.r.IntN(3) {
			case 0:
				line("    httpGet:")
				line("      path: /healthz")
				line("      port: %d", 8080+k)
			case 1:
				line("    tcpSocket:")
				line("      port: %d", 8080+k)
			default:
				line("    exec:")
				line("      command: [\"cat\", \"/tmp/healthy\"]")
			}
			line("    initialDelaySeconds: %d", 5*g.r.IntN(6))
			line("    periodSeconds: 10")
		}
	}
	if len(volumes) > 0 && g.r.IntN(4) > 0 {
		line("  volumeMounts:")
		for _, v := range volumes {
			line("  - name: %s", v)
			line("    mountPath: /%s", strings.ReplaceAll(v, "host", "host/"+app))
			if v != "tmp" {
				line("    readOnly: true")
			}
		}
	}
	switch prof {
	case hardened:
		line("  securityContext:")
		line("    allowPrivilegeEscalation: false")
		line("    readOnlyRootFilesystem: true")
		line("    capabilities:")
		line("      drop: [\"ALL\"]")
	case partial:
		if g.r.IntN(2) == 0 {
			line("  securityContext:")
			line("    allowPrivilegeEscalation: false")
			if g.r.IntN(2) == 0 {
				line("    readOnlyRootFilesystem: true")
			}
		}
	case insecure:
		if g.r.IntN(3) > 0 {
			line("  securityContext:")
			switch g.r.IntN(4) {
			case 0:
				line("    privileged: true")
			case 1:
				line("    allowPrivilegeEscalation: true")
				line("    runAsUser: 0")
			case 2:
				line("    capabilities:")
				line("      add:")
				line("      - %s", pick(g.r, caps))
				line("      - %s", pick(g.r, caps))
			default:
				line("    privileged: true")
				line("    capabilities:")
				line("      add: [\"SYS_ADMIN\"]")
			}
		}
	}
	return b
}

// String summarises the stats, kinds in a stable order.
func (s Stats) String() string {
	var parts []string
	for _, k := range []string{"Namespace", "Deployment", "Pod", "StatefulSet", "ReplicaSet", "Job", "DaemonSet", "CronJob"} {
		parts = append(parts, k+"="+strconv.Itoa(s.Kinds[k]))
	}
	return fmt.Sprintf("%d files, %d documents, %.1f MB (%s)", s.Files, s.Documents, float64(s.Bytes)/1e6, strings.Join(parts, " "))
}
