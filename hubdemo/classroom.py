"""Classroom mode: how the app serves a room, and what a student may reach.

``streamlit run streamlit_app.py -- --classroom [--data DIR ...]`` serves the
local network over HTTPS (phones allow the camera only there or on
localhost), with a self-signed certificate made once and kept in the cache,
or the teacher's own. The :class:`Classroom` these options describe is the
one policy every page asks: which folders a student may read datasets and
models from (only the teacher's ``--data`` folders), how much each session
may store, how many runs train at once. Without ``--classroom`` the policy is
:data:`OPEN`: localhost only, every feature open.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

from hubdemo import paths
from hubdemo.errors import HubDemoError
from hubdemo.i18n import N_, _
from hubdemo.trainers import DEFAULT_SLOTS

MB = 1024 * 1024
PORT = 8501


DATASET_SOURCES = N_("the built-in digits, a .zip you upload or photos you add in the browser")


@dataclass(frozen=True)
class Classroom:
    """The policy of this server: open (one person on localhost) or a classroom."""

    on: bool = False
    data_roots: tuple[Path, ...] = ()
    passphrase: str = ""
    session_quota: int = 500 * MB
    total_quota: int = 5 * 1024 * MB
    trainers: int = DEFAULT_SLOTS  # Training runs at once: one per two cores.
    cert: str = ""
    key: str = ""

    def check_folder(self, folder: str | Path, what: str = N_("a dataset"), others: str = DATASET_SOURCES) -> Path:
        """The folder, resolved; in a classroom only inside the teacher's ``--data`` folders.

        Resolving first (symlinks, ``..``) means no spelling of a path reaches
        outside the allowed roots.

        Raises:
            HubDemoError: the folder is outside every allowed root.
        """
        path = Path(folder).expanduser()
        if not self.on:
            return path
        real = Path(os.path.realpath(path))
        if any(real == root or root in real.parents for root in self.data_roots):
            return real
        names = ", ".join(f"'{root.name}'" for root in self.data_roots)
        allowed = (_("the teacher's folders ({names}) and their subfolders").format(names=names) if self.data_roots
                   else _("no folders of the teacher's computer (the teacher started it without --data)"))
        raise HubDemoError(_("In this classroom, {what} can only come from {allowed}, {others}. '{folder}' is not "
                             "one of them.").format(what=_(what), allowed=allowed, others=_(others), folder=folder))

    def check_handle(self, handle: str) -> str:
        """A model handle typed by a student: in a classroom only a SavedModel inside the teacher's folders.

        A SavedModel is a program (it can read and write files when it runs),
        so a classroom loads only those the teacher put in a ``--data`` folder;
        the app's own models stay in the list.
        """
        if not self.on:
            return handle
        if "://" in handle:
            raise HubDemoError(_("In this classroom, models come from the list (or your own trained ones); a "
                                 "model from the internet must be downloaded by the teacher into a --data folder."))
        return str(self.check_folder(handle, N_("models"), MODEL_SOURCES))

    def safe_default_folder(self) -> str:
        return str(self.data_roots[0]) if self.data_roots else ""


OPEN = Classroom()
MODEL_SOURCES = N_("the models in the list, your trained models and export .zip files you upload")


def parser() -> argparse.ArgumentParser:
    """The options after ``--`` in ``streamlit run streamlit_app.py -- …``."""
    p = argparse.ArgumentParser(prog="streamlit run streamlit_app.py --")
    p.add_argument("--data", action="append", default=[],
                   help="a dataset folder (one subfolder per class) or .zip to start with; in a classroom, the "
                        "only folders students may use (repeat for several)")
    p.add_argument("--classroom", action="store_true",
                   help="serve the local network over HTTPS for a class, each student in their own workspace")
    p.add_argument("--passphrase", default="", help="the teacher's passphrase (default: made up and printed)")
    p.add_argument("--cert", default="", help="your own HTTPS certificate (PEM), instead of a self-signed one")
    p.add_argument("--key", default="", help="the private key of --cert (PEM)")
    p.add_argument("--session-quota-mb", type=int, default=500, help="disk space per student (default 500 MB)")
    p.add_argument("--total-quota-mb", type=int, default=5120, help="disk space for the whole class (default 5 GB)")
    p.add_argument("--trainers", type=int, default=0,
                   help="training runs at once (default: one per two cores)")
    return p


def from_args(argv: list[str]) -> tuple[argparse.Namespace, Classroom]:
    """Parse the app's options; the policy they describe (:data:`OPEN` without ``--classroom``)."""
    args = parser().parse_known_args(argv)[0]
    if not args.classroom:
        return args, OPEN
    if bool(args.cert) != bool(args.key):
        raise HubDemoError(_("Pass both --cert and --key (your certificate and its private key), or neither for "
                             "a self-signed certificate."))
    return args, Classroom(
        on=True, data_roots=tuple(Path(os.path.realpath(Path(d).expanduser())) for d in args.data),
        passphrase=args.passphrase or _env_passphrase(), session_quota=args.session_quota_mb * MB,
        total_quota=args.total_quota_mb * MB, trainers=args.trainers or Classroom.trainers,
        cert=args.cert, key=args.key)


def _env_passphrase() -> str:
    """Made up once per server start (the same in every session); printed in the terminal for the teacher."""
    return os.environ.setdefault("HUBDEMO_PASSPHRASE", "-".join(secrets.token_hex(2) for _ in range(3)))


# --- The network ------------------------------------------------------------------------------

def lan_addresses() -> list[str]:
    """This computer's IPv4 addresses on local networks, read from its interfaces (no packet is sent).

    Private addresses (192.168…, 10…, 172.16–31…) first: the school network's.
    """
    import psutil
    found = []
    for addrs in psutil.net_if_addrs().values():
        for addr in addrs:
            if addr.family != socket.AF_INET:
                continue
            ip = ipaddress.ip_address(addr.address)
            if not (ip.is_loopback or ip.is_link_local or ip.is_unspecified):
                found.append(ip)
    return [str(ip) for ip in sorted(set(found), key=lambda ip: (not ip.is_private, ip))]


def join_url(host: str, port: int, *, https: bool = True, code: str = "") -> str:
    url = f"{'https' if https else 'http'}://{host}:{port}/"
    return f"{url}?join={code}" if code else url


def qr_png(url: str, scale: int = 8) -> bytes:
    """A QR code of ``url`` as PNG (segno writes PNG itself, no Pillow needed)."""
    import io

    import segno
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=scale, border=2)
    return out.getvalue()


def qr_terminal(url: str) -> str:
    """The QR code drawn with block characters, for the teacher's terminal."""
    import io

    import segno
    out = io.StringIO()
    segno.make(url, error="m").terminal(out, compact=True)
    return out.getvalue()


# --- HTTPS ------------------------------------------------------------------------------------

def certificate(addresses: list[str]) -> tuple[Path, Path]:
    """A self-signed certificate for this computer's names and ``addresses``, made once and kept.

    Made again only when it expires within a week or an address is new (the
    laptop joined another network). Browsers warn once about a certificate
    no authority signed; the page tells students what that means.
    """
    folder = paths.cache_dir() / "classroom"
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    names = sorted({"localhost", socket.gethostname()})
    ips = sorted({"127.0.0.1", *addresses})
    if cert_path.is_file() and key_path.is_file() and _covers(cert_path, names, ips):
        return cert_path, key_path
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"hubdemo classroom on {names[-1]}")])
    now = datetime.datetime.now(datetime.timezone.utc)
    san = x509.SubjectAlternativeName([*(x509.DNSName(n) for n in names),
                                       *(x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365)).add_extension(san, critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    key_path.touch(mode=0o600)
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def _covers(cert_path: Path, names: list[str], ips: list[str]) -> bool:
    from cryptography import x509
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return False
    soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=7)
    have_ips = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    return (cert.not_valid_after_utc > soon and set(names) <= set(san.get_values_for_type(x509.DNSName))
            and set(ips) <= have_ips)


def fingerprint(cert_path: str | Path) -> str:
    """The certificate's SHA-256 fingerprint, as browsers show it: students can check it is the teacher's."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    cert = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def serve_flags(policy: Classroom, addresses: list[str]) -> list[str]:
    """The ``streamlit run`` flags that serve the room: every interface, HTTPS.

    Naming the address to show (``browser.serverAddress``) also stops
    Streamlit from finding it by sending packets to outside servers.
    """
    cert, key = (policy.cert, policy.key) if policy.cert else map(str, certificate(addresses))
    return ["--server.address", "0.0.0.0", "--server.sslCertFile", str(cert), "--server.sslKeyFile", str(key),
            "--browser.serverAddress", addresses[0] if addresses else "localhost"]
