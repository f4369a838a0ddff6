// Package hygiene holds the package-manager rules: apt-update-merge and the
// apt, apk, pip and rpm (yum, dnf, microdnf) hygiene rules.
package hygiene
