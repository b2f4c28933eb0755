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
//     hostPort gets hostPort = containerPort.
func applyDefaults(t *PodTemplate) {
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
