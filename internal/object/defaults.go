package object

import (
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// applyDefaults sets the defaults the API server applies before admission
// to fields that security checks read, so that a manifest is judged as the
// API server would judge the object it stores:
//   - a volume with no source becomes an emptyDir;
//   - in a Pod (not a workload's template, since Kubernetes 1.28) with
//     hostNetwork, every container and init container port without a
//     hostPort gets hostPort = containerPort;
//   - in a Pod (since Kubernetes 1.30), the deprecated AppArmor annotations
//     are copied into the containers' appArmorProfile fields (see
//     syncAppArmor).
func applyDefaults(t *PodTemplate) {
	if t.IsPod() {
		syncAppArmor(t)
	}
	for i := range t.Spec.Volumes {
		if VolumeSourceName(&t.Spec.Volumes[i].VolumeSource) == "" {
			t.Spec.Volumes[i].EmptyDir = &corev1.EmptyDirVolumeSource{}
		}
	}
	if t.IsPod() && t.Spec.HostNetwork {
		for _, cs := range [][]corev1.Container{t.Spec.Containers, t.Spec.InitContainers} {
			for i := range cs {
				for j := range cs[i].Ports {
					if p := &cs[i].Ports[j]; p.HostPort == 0 {
						p.HostPort = p.ContainerPort
					}
				}
			}
		}
	}
}

// appArmorAnnotationPrefix is the deprecated per-container AppArmor
// annotation, container.apparmor.security.beta.kubernetes.io/<container>.
const appArmorAnnotationPrefix = "container.apparmor.security.beta.kubernetes.io/"

// syncAppArmor does what the API server does to a Pod on create, before
// admission sees it: a container that has a deprecated AppArmor annotation
// and no appArmorProfile field gets the field the annotation means, unless
// that equals the pod-level profile or the annotation means no valid
// profile. Windows pods are left alone. Pod Security then judges both the
// field and the annotation, and names both in its message.
func syncAppArmor(t *PodTemplate) {
	spec := &t.Spec
	if spec.OS != nil && spec.OS.Name == corev1.Windows {
		return
	}
	var podProfile *corev1.AppArmorProfile
	if spec.SecurityContext != nil {
		podProfile = spec.SecurityContext.AppArmorProfile
	}
	sync := func(c *corev1.Container) {
		annotation, ok := t.Metadata.Annotations[appArmorAnnotationPrefix+c.Name]
		if !ok || c.SecurityContext != nil && c.SecurityContext.AppArmorProfile != nil {
			return
		}
		profile := appArmorProfileFor(annotation)
		if profile == nil || reflect.DeepEqual(profile, podProfile) {
			return
		}
		if c.SecurityContext == nil {
			c.SecurityContext = &corev1.SecurityContext{}
		}
		c.SecurityContext.AppArmorProfile = profile
	}
	for i := range spec.InitContainers {
		sync(&spec.InitContainers[i])
	}
	for i := range spec.Containers {
		sync(&spec.Containers[i])
	}
	for i := range spec.EphemeralContainers {
		sync((*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon))
	}
}

// appArmorProfileFor is the profile a deprecated annotation value means,
// nil for a value that means none the API server would accept in the field
// (an unknown value, an empty, padded or overlong localhost name).
func appArmorProfileFor(annotation string) *corev1.AppArmorProfile {
	switch {
	case annotation == "unconfined":
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}
	case annotation == "runtime/default":
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
	case strings.HasPrefix(annotation, "localhost/"):
		name := strings.TrimPrefix(annotation, "localhost/")
		if name == "" || strings.TrimSpace(name) != name || len(name) > 4095 {
			return nil
		}
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: &name}
	}
	return nil
}

var volumeSourceType = reflect.TypeFor[corev1.VolumeSource]()

// VolumeSourceName names the source a volume uses, as its field is spelt in
// YAML (hostPath, nfs, emptyDir...), or "" when none is set.
func VolumeSourceName(v *corev1.VolumeSource) string {
	rv := reflect.ValueOf(v).Elem()
	for i := 0; i < volumeSourceType.NumField(); i++ {
		if f := rv.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			name, _, _ := strings.Cut(volumeSourceType.Field(i).Tag.Get("json"), ",")
			return name
		}
	}
	return ""
}
