"""Registry test support, imported by conftest.py and the tests: Debian's docker-registry
on loopback, the token server the token-auth registry trusts, a fault-injecting proxy, and
helpers that write small test images straight into a content store.

Users everywhere: ``alice`` / ``s3cret``.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import http.client
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from builder.content.store import ContentStore
from builder.images.store import ImageStore
from builder.oci.descriptor import Descriptor
from builder.root import Root

USER, PASSWORD = "alice", "s3cret"
REGISTRY_BIN = "/usr/bin/docker-registry"



def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- certificates ---------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Pki:
    ca_pem: Path
    cert_pem: Path
    key_pem: Path
    key: rsa.RSAPrivateKey
    cert_der: bytes


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_pki(folder: Path) -> Pki:
    """A CA and a server certificate for 127.0.0.1/localhost signed by it."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = (x509.CertificateBuilder().subject_name(_name("pybuild test CA"))
          .issuer_name(_name("pybuild test CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    import ipaddress

    san = x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                       x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1"))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(san, critical=False)
            .sign(ca_key, hashes.SHA256()))
    pki = Pki(folder / "ca.crt", folder / "server.crt", folder / "server.key", key,
              cert.public_bytes(serialization.Encoding.DER))
    pki.ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.TraditionalOpenSSL,
                                              serialization.NoEncryption()))
    return pki


def make_signing_cert(folder: Path) -> tuple[rsa.RSAPrivateKey, bytes, Path]:
    """A self-signed token-signing key and cert; the cert is the registry's rootcertbundle."""
    now = datetime.datetime.now(datetime.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (x509.CertificateBuilder().subject_name(_name("token signer"))
            .issuer_name(_name("token signer")).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .sign(key, hashes.SHA256()))
    bundle = folder / "token-bundle.pem"
    bundle.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert.public_bytes(serialization.Encoding.DER), bundle


# -- token server ---------------------------------------------------------------------
def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """The distribution token spec's auth server: Basic-authenticated GET /token.

    ``alice`` gets every action she asks for; anonymous users get ``pull`` on ``public/*``;
    a wrong password gets 401. ``requests`` counts token requests (for cache tests).
    """

    def __init__(self, folder: Path, service: str, issuer: str) -> None:
        self.key, self.cert_der, self.bundle = make_signing_cert(folder)
        self.service, self.issuer = service, issuer
        self.requests = 0
        self.port = free_port()
        self.realm = f"http://127.0.0.1:{self.port}/token"
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                server.requests += 1
                code, body = server.answer(self.path, self.headers.get("Authorization", ""))
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def answer(self, path: str, authorization: str) -> tuple[int, bytes]:
        query = urllib.parse.parse_qs(urllib.parse.urlparse(path).query)
        user = ""
        if authorization.startswith("Basic "):
            name, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
            if (name, password) != (USER, PASSWORD):
                return 401, b'{"details":"incorrect username or password"}'
            user = name
        access: list[dict[str, Any]] = []
        for scope in query.get("scope", []):
            kind, name, actions = scope.split(":")
            wanted = actions.split(",")
            granted = wanted if user else [a for a in wanted if a == "pull"
                                           and name.startswith("public/")]
            access.append({"type": kind, "name": name, "actions": granted})
        token = self.sign(user, access)
        return 200, json.dumps({"token": token, "access_token": token, "expires_in": 300,
                                "issued_at": "2026-01-01T00:00:00Z"}).encode()

    def sign(self, subject: str, access: list[dict[str, Any]]) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256",
                  "x5c": [base64.b64encode(self.cert_der).decode()]}
        claims = {"iss": self.issuer, "sub": subject, "aud": self.service, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        signing_input = (_b64url(json.dumps(header).encode()) + "." +
                         _b64url(json.dumps(claims).encode()))
        sig = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + _b64url(sig)


# -- the registry process -------------------------------------------------------------
@dataclasses.dataclass
class Registry:
    """A running docker-registry: ``host`` is ``127.0.0.1:PORT`` as used in image names."""

    host: str
    scheme: str
    folder: Path
    process: subprocess.Popen[bytes]
    ca: Path | None = None
    token_server: TokenServer | None = None

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"


def _config(folder: Path, port: int, auth: str, tls: Pki | None) -> Path:
    lines = ["version: 0.1", "log:", "  level: error", "  accesslog:", "    disabled: true",
             "storage:", "  filesystem:", f"    rootdirectory: {folder / 'data'}",
             "  delete:", "    enabled: true", "http:", f"  addr: 127.0.0.1:{port}",
             "  secret: pybuild-test-secret"]
    if tls:
        lines += ["  tls:", f"    certificate: {tls.cert_pem}", f"    key: {tls.key_pem}"]
    lines += auth.splitlines()
    path = folder / "config.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _wait_ready(reg: Registry, deadline: float) -> None:
    while time.monotonic() < deadline:
        if reg.process.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {reg.process.stderr.read().decode()}"
                               if reg.process.stderr else "docker-registry exited")
        try:
            if reg.scheme == "https":
                ctx = ssl.create_default_context(cafile=str(reg.ca))
                conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                    reg.host, timeout=2, context=ctx)
            else:
                conn = http.client.HTTPConnection(reg.host, timeout=2)
            conn.request("GET", "/v2/")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("docker-registry did not start in time")


def start_registry(folder: Path, auth: str = "", tls: Pki | None = None) -> Registry:
    for _ in range(5):
        port = free_port()
        config = _config(folder, port, auth, tls)
        proc = subprocess.Popen([REGISTRY_BIN, "serve", str(config)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        reg = Registry(f"127.0.0.1:{port}", "https" if tls else "http", folder, proc,
                       tls.ca_pem if tls else None)
        try:
            _wait_ready(reg, time.monotonic() + 20)
            return reg
        except RuntimeError:
            proc.kill()
            proc.wait()
    raise RuntimeError("could not start docker-registry")


def stop_registry(reg: Registry) -> None:
    reg.process.terminate()
    try:
        reg.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        reg.process.kill()
        reg.process.wait()
    if reg.process.stderr:
        reg.process.stderr.close()
    if reg.token_server:
        reg.token_server.close()
    shutil.rmtree(reg.folder, ignore_errors=True)





# -- the fault proxy ------------------------------------------------------------------
@dataclasses.dataclass
class Fault:
    """Misbehave on requests whose path contains ``match`` (and method equals ``method``).

    kinds: ``status`` (answer ``status`` instead of forwarding), ``flip`` (flip one byte of
    the body), ``drop`` (send half the body, then close the connection). ``times`` is how
    many matching requests to spoil (-1: all).
    """

    kind: str
    match: str
    method: str = "GET"
    status: int = 500
    times: int = 1
    hits: int = 0


class FaultProxy:
    """An HTTP reverse proxy in front of a plain-HTTP registry that can inject faults."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str, int]] = []
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _any(self) -> None:
                proxy.handle(self)

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _any  # noqa: N815

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _fault_for(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and fault.match in path and fault.times != fault.hits:
                fault.hits += 1
                return fault
        return None

    def handle(self, req: http.server.BaseHTTPRequestHandler) -> None:
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length) if length else b""
        fault = self._fault_for(req.command, req.path)
        if fault and fault.kind == "status":
            self.log.append((req.command, req.path, fault.status))
            req.send_response(fault.status)
            req.send_header("Content-Length", "0")
            req.end_headers()
            return
        conn = http.client.HTTPConnection(self.upstream, timeout=30)
        headers = {k: v for k, v in req.headers.items() if k.lower() != "content-length"}
        headers["Content-Length"] = str(len(body))
        conn.request(req.command, req.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        self.log.append((req.command, req.path, resp.status))
        if fault and fault.kind == "flip" and data:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        req.send_response(resp.status)
        for key, value in resp.getheaders():
            if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                req.send_header(key, value)
        req.send_header("Content-Length", str(len(data)))
        req.end_headers()
        if req.command == "HEAD":
            return
        if fault and fault.kind == "drop":
            req.wfile.write(data[: len(data) // 2])
            req.wfile.flush()
            req.close_connection = True
            req.connection.shutdown(socket.SHUT_RDWR)
            return
        req.wfile.write(data)



def env_without_home(tmp_path: Path) -> dict[str, str]:
    """An environment for CLI subprocesses: tmp DOCKER_CONFIG and root, no real home."""
    env = dict(os.environ)
    env["DOCKER_CONFIG"] = str(tmp_path / "docker-config")
    env["PYBUILD_ROOT"] = str(tmp_path / "root")
    env["PYBUILD_REGISTRY_CONFIG"] = str(tmp_path / "no-registries.json")
    env.pop("PYBUILD_INSECURE_REGISTRIES", None)
    return env


# -- test images ----------------------------------------------------------------------
def tar_layer(name: str, data: bytes) -> bytes:
    """An uncompressed tar holding one regular file ``name`` with ``data``."""
    import io
    import tarfile

    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def make_image(content: ContentStore, layer_sizes: tuple[int, ...] = (2048, 4096),
               arch: str = "amd64", gzip_layers: bool = True, seed: bytes = b"") -> Descriptor:
    """Write an image (layers of random data, config, manifest) into ``content``.

    Returns the manifest ``Descriptor``. Layers are tar+gzip unless ``gzip_layers`` is
    False (then plain tar, as the benchmark uses for speed).
    """
    import gzip
    import hashlib

    from builder.oci.descriptor import MediaType, Platform
    from builder.oci.image import ImageConfig, Manifest, RootFS
    from solver.digest import Digest

    store = content  # a builder.content.store.ContentStore
    layers, diff_ids = [], []
    for i, size in enumerate(layer_sizes):
        raw = tar_layer(f"file{i}", seed + os.urandom(size))
        diff_ids.append(Digest("sha256:" + hashlib.sha256(raw).hexdigest()))
        blob = gzip.compress(raw, compresslevel=1, mtime=0) if gzip_layers else raw
        kind = MediaType.OCI_LAYER_GZIP if gzip_layers else MediaType.OCI_LAYER
        layers.append(Descriptor(kind, store.put_bytes(blob), len(blob)))
    config = ImageConfig(architecture=arch, os="linux", created="2026-01-01T00:00:00Z",
                         rootfs=RootFS("layers", tuple(diff_ids)))
    cbody = config.to_json()
    cdesc = Descriptor(MediaType.OCI_CONFIG, store.put_bytes(cbody), len(cbody))
    manifest = Manifest(cdesc, tuple(layers))
    mbody = manifest.to_json()
    return Descriptor(MediaType.OCI_MANIFEST, store.put_bytes(mbody), len(mbody),
                      platform=Platform("linux", arch))


def make_index(content: ContentStore, manifests: list[Descriptor]) -> Descriptor:
    """An OCI index over ``manifests`` (descriptors with platforms), stored in ``content``."""
    from builder.oci.descriptor import MediaType
    from builder.oci.image import Index

    body = Index(tuple(manifests)).to_json()
    return Descriptor(MediaType.OCI_INDEX, content.put_bytes(body), len(body))


@dataclasses.dataclass
class Stores:
    """A fresh root with its content and image stores (for one test)."""

    root: Root
    content: ContentStore
    images: ImageStore


def open_test_stores(folder: Path) -> Stores:
    root = Root.open(folder)
    content = ContentStore(root)
    return Stores(root, content, ImageStore(root, content))


def write_oci_layout(content: ContentStore, desc: Descriptor, folder: Path, tag: str) -> None:
    """An OCI image layout at ``folder`` holding the image ``desc`` (for skopeo's oci:)."""
    from builder.oci.image import Manifest

    blobs = folder / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    manifest = Manifest.from_json(content.read_bytes(desc.digest))
    for digest in [desc.digest, manifest.config.digest,
                   *(layer.digest for layer in manifest.layers)]:
        shutil.copyfile(content.path(digest), blobs / digest.removeprefix("sha256:"))
    (folder / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    entry = {"mediaType": desc.media_type, "digest": desc.digest, "size": desc.size,
             "annotations": {"org.opencontainers.image.ref.name": tag}}
    (folder / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [entry]}))


def skopeo(*args: str) -> str:
    """Run skopeo; returns stdout, raises with its stderr on failure."""
    proc = subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=120,
                          check=False)
    if proc.returncode != 0:
        raise AssertionError(f"skopeo {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout
