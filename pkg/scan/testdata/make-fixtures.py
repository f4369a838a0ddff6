# Lays out the hand-written finding table below as the Trivy (SchemaVersion 2)
# and Grype JSON reports in this folder, the way each tool writes them, and
# prints the counts the tests expect (counted here, independently of the Go
# code). Run from this folder: python3 make-fixtures.py .
#
# The scenario: python:3.12-bookworm (Debian 12 full image) before, its
# python:3.12-slim-bookworm replacement after. Scores and versions are
# realistic, not a copy of any real scan.
import collections, hashlib, json, sys

def uid(*parts):
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]

# id, pkgs, installed, fixed(None), trivy sev, grype sev, vendor scores {src:(v3,v2)}, nvd (v3,v2), where: b=before only, a=after only, ba=both
F = [
 ("CVE-2023-45853", ["zlib1g"], "1:1.2.13.dfsg-1", None, "CRITICAL", "Critical", {}, (9.8, None), "ba"),
 ("CVE-2024-45490", ["libexpat1"], "2.5.0-1", "2.5.0-1+deb12u1", "CRITICAL", "Critical", {"redhat": (7.5, None)}, (9.8, None), "b"),
 ("CVE-2024-45491", ["libexpat1"], "2.5.0-1", "2.5.0-1+deb12u1", "CRITICAL", "Critical", {"redhat": (7.5, None)}, (9.8, None), "b"),
 ("CVE-2024-45492", ["libexpat1"], "2.5.0-1", "2.5.0-1+deb12u1", "CRITICAL", "Critical", {"redhat": (7.5, None)}, (9.8, None), "b"),
 ("CVE-2024-32002", ["git", "git-man"], "1:2.39.2-1.1", "1:2.39.5-0+deb12u1", "CRITICAL", "Critical", {"ghsa": (9.0, None), "redhat": (9.0, None)}, (9.0, None), "b"),
 ("CVE-2024-38428", ["wget"], "1.21.3-1+b2", None, "CRITICAL", "Critical", {"redhat": (9.1, None)}, (9.1, None), "b"),
 ("CVE-2023-6879", ["libaom3"], "3.6.0-1", None, "CRITICAL", "Critical", {"redhat": (9.8, None)}, (9.8, None), "b"),
 ("CVE-2023-38545", ["curl", "libcurl4"], "7.88.1-10+deb12u4", "7.88.1-10+deb12u5", "HIGH", "High", {"redhat": (7.5, None)}, (9.8, None), "b"),
 ("CVE-2024-32004", ["git", "git-man"], "1:2.39.2-1.1", "1:2.39.5-0+deb12u1", "HIGH", "High", {"ghsa": (8.1, None)}, (8.1, None), "b"),
 ("CVE-2024-6387", ["openssh-client"], "1:9.2p1-2+deb12u2", "1:9.2p1-2+deb12u3", "HIGH", "High", {"redhat": (8.1, None)}, (8.1, None), "b"),
 ("CVE-2023-52425", ["libexpat1"], "2.5.0-1", None, "HIGH", "High", {"redhat": (7.5, None)}, (7.5, None), "b"),
 ("CVE-2024-25062", ["libxml2"], "2.9.14+dfsg-1.3~deb12u1", None, "HIGH", "High", {"redhat": (7.5, None)}, (7.5, None), "b"),
 ("CVE-2023-2953", ["libldap-2.5-0"], "2.5.13+dfsg-5", None, "HIGH", "High", {"redhat": (7.5, None)}, (7.5, None), "b"),
 ("CVE-2023-7104", ["libsqlite3-0"], "3.40.1-2", None, "HIGH", "High", {"redhat": (7.3, None)}, (7.3, None), "b"),
 ("CVE-2023-4911", ["libc6", "libc-bin", "libc-dev-bin", "libc6-dev"], "2.36-9+deb12u1", "2.36-9+deb12u3", "HIGH", "High", {"redhat": (7.8, None)}, (7.8, None), "b"),
 ("CVE-2024-2961", ["libc6", "libc-bin"], "2.36-9+deb12u4", "2.36-9+deb12u7", "HIGH", "High", {"redhat": (7.3, None)}, (8.8, None), "ba"),
 ("CVE-2024-33599", ["libc6", "libc-bin"], "2.36-9+deb12u4", "2.36-9+deb12u7", "HIGH", "High", {"redhat": (7.6, None)}, (8.1, None), "ba"),
 ("CVE-2024-0553", ["libgnutls30"], "3.7.9-2+deb12u1", "3.7.9-2+deb12u2", "HIGH", "High", {"redhat": (7.5, None)}, (7.5, None), "ba"),
 ("CVE-2024-6119", ["libssl3", "openssl"], "3.0.13-1~deb12u1", "3.0.14-1~deb12u2", "HIGH", "High", {"redhat": (5.9, None)}, (7.5, None), "ba"),
 ("CVE-2023-31484", ["perl-base"], "5.36.0-7+deb12u1", None, "HIGH", "High", {"redhat": (8.1, None)}, (8.1, None), "ba"),
 ("CVE-2023-44487", ["libnghttp2-14"], "1.52.0-1+deb12u1", "1.52.0-1+deb12u2", "HIGH", "High", {"redhat": (7.5, None), "ghsa": (5.3, None)}, (7.5, None), "b"),
 ("CVE-2024-28182", ["libnghttp2-14"], "1.52.0-1+deb12u1", "1.52.0-1+deb12u2", "MEDIUM", "Medium", {"redhat": (5.3, None)}, (5.3, None), "b"),
 ("CVE-2024-7264", ["curl", "libcurl4"], "7.88.1-10+deb12u4", "7.88.1-10+deb12u7", "MEDIUM", "Medium", {"redhat": (6.3, None)}, (6.5, None), "b"),
 ("CVE-2023-48795", ["libssh2-1"], "1.10.0-3+b1", None, "MEDIUM", "Medium", {"redhat": (5.9, None), "ghsa": (5.9, None)}, (5.9, None), "b"),
 ("CVE-2023-4039", ["gcc-12", "cpp-12", "g++-12"], "12.2.0-14", None, "MEDIUM", "Medium", {"redhat": (4.8, None)}, (4.8, None), "b"),
 ("CVE-2023-50495", ["libncursesw6", "libtinfo6", "ncurses-base", "ncurses-bin"], "6.4-4", None, "MEDIUM", "Medium", {"redhat": (6.5, None)}, (6.5, None), "ba"),
 ("CVE-2024-22365", ["libpam-modules", "libpam-modules-bin", "libpam-runtime", "libpam0g"], "1.5.2-6+deb12u1", None, "MEDIUM", "Medium", {"redhat": (5.5, None)}, (5.5, None), "ba"),
 ("CVE-2024-26462", ["libgssapi-krb5-2", "libk5crypto3", "libkrb5-3", "libkrb5support0"], "1.20.1-2+deb12u1", None, "MEDIUM", "Medium", {"redhat": (5.5, None)}, (5.5, None), "b"),
 ("CVE-2023-5981", ["libgnutls30"], "3.7.9-2+deb12u1", "3.7.9-2+deb12u2", "MEDIUM", "Medium", {"redhat": (5.9, None)}, (5.9, None), "ba"),
 ("CVE-2024-0727", ["libssl3", "openssl"], "3.0.13-1~deb12u1", "3.0.13-1~deb12u2", "MEDIUM", "Medium", {"redhat": (5.5, None), "ghsa": (5.5, None)}, (5.5, None), "ba"),
 ("CVE-2024-2236", ["libgcrypt20"], "1.10.1-3", None, "MEDIUM", "Medium", {"redhat": (5.9, None)}, (None, None), "ba"),
 ("CVE-2023-4641", ["login", "passwd"], "1:4.13+dfsg1-1+b1", None, "MEDIUM", "Medium", {"redhat": (4.7, None)}, (5.5, None), "ba"),
 ("CVE-2025-8869", ["pip"], "24.0", "25.3", "MEDIUM", "Medium", {"ghsa": (5.9, None)}, (None, None), "ba"),
 ("CVE-2011-3374", ["apt", "libapt-pkg6.0"], "2.6.1", None, "LOW", "Negligible", {}, (3.7, 4.3), "ba"),
 ("CVE-2022-0563", ["bsdutils", "libblkid1", "libmount1", "libsmartcols1", "libuuid1", "mount", "util-linux"], "2.38.1-5+b1", None, "LOW", "Negligible", {"redhat": (4.7, None)}, (5.5, None), "ba"),
 ("CVE-2022-27943", ["gcc-12-base", "libgcc-s1", "libstdc++6"], "12.2.0-14", None, "LOW", "Negligible", {"redhat": (5.5, None)}, (5.5, None), "ba"),
 ("CVE-2010-4756", ["libc6", "libc-bin"], "2.36-9+deb12u4", None, "LOW", "Negligible", {}, (None, 4.0), "ba"),
 ("CVE-2019-1010022", ["libc6", "libc-bin"], "2.36-9+deb12u4", None, "LOW", "Negligible", {}, (9.8, 7.5), "ba"),
 ("CVE-2018-6829", ["libgcrypt20"], "1.10.1-3", None, "LOW", "Negligible", {}, (7.5, 5.0), "ba"),
 ("CVE-2016-2781", ["coreutils"], "9.1-1", None, "LOW", "Low", {"redhat": (6.5, None)}, (6.5, 2.1), "ba"),
 ("CVE-2017-18018", ["coreutils"], "9.1-1", None, "LOW", "Negligible", {}, (4.7, 1.9), "ba"),
 ("CVE-2005-2541", ["tar"], "1.34+dfsg-1.2+deb12u1", None, "LOW", "Negligible", {}, (None, 10.0), "ba"),
 ("CVE-2007-5686", ["login", "passwd"], "1:4.13+dfsg1-1+b1", None, "LOW", "Negligible", {}, (None, 4.9), "ba"),
 ("CVE-2023-29383", ["login", "passwd"], "1:4.13+dfsg1-1+b1", None, "LOW", "Low", {"redhat": (3.3, None)}, (3.3, None), "ba"),
 ("CVE-2023-31486", ["perl-base", "perl"], "5.36.0-7+deb12u1", None, "LOW", "Negligible", {"redhat": (8.1, None)}, (8.1, None), "b"),
 ("CVE-2023-45918", ["libncursesw6", "libtinfo6", "ncurses-base", "ncurses-bin"], "6.4-4", None, "LOW", "Negligible", {}, (None, None), "ba"),
 ("CVE-2024-56433", ["login", "passwd"], "1:4.13+dfsg1-1+b1", None, "LOW", "Low", {"redhat": (3.6, None)}, (3.6, None), "ba"),
 ("CVE-2023-52426", ["libexpat1"], "2.5.0-1", None, "LOW", "Negligible", {"redhat": (5.5, None)}, (5.5, None), "b"),
 ("TEMP-0841856-B18BAF", ["bash"], "5.2.15-2+b2", None, "LOW", "Negligible", {}, (None, None), "ba"),
 ("CVE-2025-4802", ["libc6", "libc-bin"], "2.36-9+deb12u10", "2.36-9+deb12u11", "HIGH", "High", {"redhat": (7.8, None)}, (7.8, None), "a"),
 ("CVE-2025-6020", ["libpam-modules", "libpam-modules-bin", "libpam-runtime", "libpam0g"], "1.5.2-6+deb12u1", None, "HIGH", "High", {"redhat": (7.8, None)}, (None, None), "a"),
 ("CVE-2024-52533", ["libglib2.0-0"], "2.74.6-2+deb12u3", None, "UNKNOWN", "Unknown", {}, (None, None), "b"),
]
IMAGES = {
 "before": ("python:3.12-bookworm", "sha256:1f7a2d4b0c3e5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c", "sha256:7c2e4b9f0a1d3c5e7f9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c"),
 "after": ("python:3.12-slim-bookworm", "sha256:2b8e6f0a4c1d7e3f9a5b2c8d4e0f6a1b7c3d9e5f0a6b2c8d4e1f7a3b9c5d0e6f", "sha256:9d4f1a7c3e8b2d6f0a5c9e3b7d1f5a9c2e6b0d4f8a1c5e9b3d7f0a4c8e2b6d1f"),
}
def vendor_ds(v):
    return {"debian": {"ID": "debian", "Name": "Debian Security Tracker", "URL": "https://salsa.debian.org/security-tracker-team/security-tracker"},
            "ghsa": {"ID": "ghsa", "Name": "GitHub Security Advisory pip", "URL": "https://github.com/advisories?query=type%3Areviewed+ecosystem%3Apip"}}[v]
def rows(side):
    out = []
    for (cid, pkgs, inst, fixed, ts, gs, vend, nvd, where) in F:
        if (side == "before" and "b" not in where) or (side == "after" and "a" not in where):
            continue
        for p in pkgs:
            out.append((cid, p, inst, fixed, ts, gs, vend, nvd))
    return out
def trivy(side):
    name, repo_digest, image_id = IMAGES[side]
    os_v, lang_v = [], []
    for (cid, p, inst, fixed, ts, gs, vend, nvd) in rows(side):
        lang = p == "pip"
        cvss = {}
        for src, (v3, v2) in vend.items():
            e = {}
            if v3: e["V3Vector"] = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"; e["V3Score"] = v3
            if v2: e["V2Vector"] = "AV:N/AC:L/Au:N/C:P/I:P/A:P"; e["V2Score"] = v2
            cvss[src] = e
        if nvd[0] or nvd[1]:
            e = {}
            if nvd[1]: e["V2Vector"] = "AV:N/AC:L/Au:N/C:P/I:P/A:P"; e["V2Score"] = nvd[1]
            if nvd[0]: e["V3Vector"] = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"; e["V3Score"] = nvd[0]
            cvss["nvd"] = e
        v = {"VulnerabilityID": cid, "PkgID": f"{p}@{inst}", "PkgName": p,
             "PkgIdentifier": {"PURL": (f"pkg:pypi/{p}@{inst}" if lang else f"pkg:deb/debian/{p}@{inst}?arch=amd64&distro=debian-12.7"), "UID": uid(cid, p)},
             "InstalledVersion": inst}
        if fixed: v["FixedVersion"] = fixed
        v["Status"] = "fixed" if fixed else ("will_not_fix" if ts == "LOW" else "affected")
        v["Layer"] = {"Digest": "sha256:" + "4f" * 32, "DiffID": "sha256:" + "8a" * 32}
        v["SeveritySource"] = "ghsa" if lang else "debian"
        v["PrimaryURL"] = f"https://avd.aquasec.com/nvd/{cid.lower()}"
        v["DataSource"] = vendor_ds("ghsa" if lang else "debian")
        v["Title"] = f"{p}: security issue ({cid})"
        v["Description"] = f"A flaw was found in {p}. See {cid} for details."
        v["Severity"] = ts
        v["VendorSeverity"] = {"debian": {"CRITICAL": 4, "HIGH": 3, "MEDIUM": 2, "LOW": 1, "UNKNOWN": 0}[ts]}
        if cvss: v["CVSS"] = cvss
        v["References"] = [f"https://security-tracker.debian.org/tracker/{cid}", f"https://nvd.nist.gov/vuln/detail/{cid}"]
        v["PublishedDate"] = "2024-01-01T00:00:00Z"
        v["LastModifiedDate"] = "2024-06-01T00:00:00Z"
        (lang_v if lang else os_v).append(v)
    return {
      "SchemaVersion": 2, "CreatedAt": "2026-11-20T10:00:00.000000000Z",
      "ArtifactName": name, "ArtifactType": "container_image",
      "Metadata": {"Size": 1019215872 if side == "before" else 130862080,
        "OS": {"Family": "debian", "Name": "12.7"}, "ImageID": image_id,
        "DiffIDs": ["sha256:" + "8a" * 32], "RepoTags": [name],
        "RepoDigests": [f"python@{repo_digest}"],
        "ImageConfig": {"architecture": "amd64", "os": "linux", "config": {"Cmd": ["python3"], "Env": ["PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"]}}},
      "Results": [
        {"Target": f"{name} (debian 12.7)", "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": os_v},
        {"Target": "Python", "Class": "lang-pkgs", "Type": "python-pkg", "Vulnerabilities": lang_v},
      ]}
def grype(side):
    name, repo_digest, image_id = IMAGES[side]
    manifest = "sha256:" + ("3c" if side == "before" else "5e") * 32
    matches = []
    for (cid, p, inst, fixed, ts, gs, vend, nvd) in rows(side):
        lang = p == "pip"
        vid = "GHSA-4xh5-x5gv-qwph" if cid == "CVE-2025-8869" else cid
        ns = "github:language:python" if lang else "debian:distro:debian:12"
        vcvss = []
        if lang and "ghsa" in vend:
            vcvss.append({"version": "3.1", "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:H/A:N", "metrics": {"baseScore": vend["ghsa"][0], "exploitabilityScore": 2.8, "impactScore": 3.6}, "vendorMetadata": {}})
        vuln = {"id": vid, "dataSource": (f"https://github.com/advisories/{vid}" if lang else f"https://security-tracker.debian.org/tracker/{cid}"),
                "namespace": ns, "severity": gs, "urls": [], "cvss": vcvss,
                "fix": {"versions": [fixed] if fixed else [], "state": "fixed" if fixed else ("wont-fix" if gs == "Negligible" else "not-fixed")},
                "advisories": []}
        related = []
        if not cid.startswith("TEMP"):
            rc = []
            if nvd[0]:
                rc.append({"source": "nvd@nist.gov", "type": "Primary", "version": "3.1", "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "metrics": {"baseScore": nvd[0], "exploitabilityScore": 3.9, "impactScore": 5.9}, "vendorMetadata": {}})
            if nvd[1]:
                rc.append({"source": "nvd@nist.gov", "type": "Primary", "version": "2.0", "vector": "AV:N/AC:L/Au:N/C:P/I:P/A:P", "metrics": {"baseScore": nvd[1], "exploitabilityScore": 10.0, "impactScore": 6.4}, "vendorMetadata": {}})
            if "redhat" in vend:
                rc.append({"source": "secalert@redhat.com", "type": "Secondary", "version": "3.1", "vector": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", "metrics": {"baseScore": vend["redhat"][0], "exploitabilityScore": 1.8, "impactScore": 5.9}, "vendorMetadata": {}})
            related.append({"id": cid, "dataSource": f"https://nvd.nist.gov/vuln/detail/{cid}", "namespace": "nvd:cpe", "severity": gs, "urls": [], "description": f"A flaw was found in {p}.", "cvss": rc})
        matches.append({"vulnerability": vuln, "relatedVulnerabilities": related,
            "matchDetails": [{"type": "exact-direct-match" if lang else "exact-indirect-match", "matcher": "python-matcher" if lang else "dpkg-matcher",
                              "searchedBy": {"distro": {"type": "debian", "version": "12"}, "namespace": ns, "package": {"name": p, "version": inst}},
                              "found": {"versionConstraint": "none (deb)", "vulnerabilityID": vid}}],
            "artifact": {"id": uid(p, inst), "name": p, "version": inst, "type": "python" if lang else "deb",
                         "locations": [{"path": "/usr/local/lib/python3.12/site-packages/pip-24.0.dist-info/METADATA" if lang else f"/var/lib/dpkg/status.d/{p}", "layerID": "sha256:" + "8a" * 32}],
                         "language": "python" if lang else "", "licenses": [], "cpes": [f"cpe:2.3:a:{p}:{p}:{inst}:*:*:*:*:*:*:*"],
                         "purl": f"pkg:pypi/{p}@{inst}" if lang else f"pkg:deb/debian/{p}@{inst}?arch=amd64&distro=debian-12", "upstreams": []}})
    return {"matches": matches,
        "source": {"type": "image", "target": {"userInput": name, "imageID": image_id, "manifestDigest": manifest,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "tags": [name], "imageSize": 1019215872 if side == "before" else 130862080,
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": "sha256:" + "8a" * 32, "size": 97000000}],
            "manifest": "e30=", "config": "e30=", "repoDigests": [f"python@{repo_digest}"], "architecture": "amd64", "os": "linux"}},
        "distro": {"name": "debian", "version": "12", "idLike": ["debian"]},
        "descriptor": {"name": "grype", "version": "0.84.0", "configuration": {"output": ["json"]}, "db": {"built": "2026-11-20T01:31:08Z", "schemaVersion": 5}},
        "ignoredMatches": []}
def write(path, doc):
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")

def counts():
    for tool, idx in (("trivy", 4), ("grype", 5)):
        keys = {}
        for side in ("before", "after"):
            c, ks = collections.Counter(), set()
            for r in rows(side):
                cid = "GHSA-4xh5-x5gv-qwph" if tool == "grype" and r[0] == "CVE-2025-8869" else r[0]
                ks.add((cid, r[1]))
                c[r[idx].lower()] += 1
            keys[side] = ks
            print(tool, side, dict(sorted(c.items())), "total", sum(c.values()))
        b, a = keys["before"], keys["after"]
        print(tool, "fixed", len(b - a), "remaining", len(b & a), "new", len(a - b))

if __name__ == "__main__":
    d = sys.argv[1]
    for side in ("before", "after"):
        write(f"{d}/trivy-{side}.json", trivy(side))
        write(f"{d}/grype-{side}.json", grype(side))
    counts()
