#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Pre-seed shim's MokList in a copy of OVMF's variable store.

    tests/harness/mok-vars.py VARS.fd CERT.der

Appends one variable, MokList (shim's GUID, attributes NV|BS), holding one
EFI_SIGNATURE_LIST with the X.509 certificate CERT.der, to the edk2
authenticated variable store inside VARS.fd, in place. This is what
`mokutil --import` plus MokManager's "Enroll MOK" leave behind; shim then
mirrors it to MokListRT and the kernel loads it into its .machine keyring.
Bookworm has no virt-fw-vars (python3-virt-firmware is trixie's), and the
format is small: the firmware volume header, the variable store header, then
variables with 60-byte headers, each 4-byte aligned, until erased flash
(0xff). Refuses a store that already holds a MokList.
"""
import struct
import sys
import uuid

FVH_SIGNATURE = b"_FVH"
AUTH_STORE_GUID = uuid.UUID("aaf32c78-947b-439a-a180-2e144ec37792")
SHIM_LOCK_GUID = uuid.UUID("605dab50-e046-4300-abb6-3dd810dd8b23")
CERT_X509_GUID = uuid.UUID("a5c059a1-94e4-4aa7-87b5-ab155c2bf072")
START_ID = 0x55AA
VAR_ADDED = 0x3F
ATTR_NV_BS = 0x1 | 0x2
# StartId, State, Reserved, Attributes, MonotonicCount, TimeStamp,
# PubKeyIndex, NameSize, DataSize, VendorGuid.
AUTH_VAR_HEADER = struct.Struct("<HBBIQ16sIII16s")


def die(msg):
    sys.exit("mok-vars.py: " + msg)


def align4(n):
    return (n + 3) & ~3


def signature_list(cert):
    # One EFI_SIGNATURE_DATA: owner GUID, then the DER certificate.
    data = SHIM_LOCK_GUID.bytes_le + cert
    return CERT_X509_GUID.bytes_le + struct.pack("<III", 28 + len(data), 0, len(data)) + data


def main():
    if len(sys.argv) != 3:
        die("usage: mok-vars.py VARS.fd CERT.der")
    path, cert_path = sys.argv[1], sys.argv[2]
    with open(cert_path, "rb") as f:
        cert = f.read()
    if cert[:1] != b"\x30":
        die(cert_path + " is not a DER certificate")
    with open(path, "rb") as f:
        img = bytearray(f.read())
    if img[0x28:0x2C] != FVH_SIGNATURE:
        die(path + ": no firmware volume header")
    store = struct.unpack_from("<H", img, 0x30)[0]
    if uuid.UUID(bytes_le=bytes(img[store:store + 16])) != AUTH_STORE_GUID:
        die(path + ": not an authenticated variable store")
    store_end = store + struct.unpack_from("<I", img, store + 16)[0]
    off = align4(store + 28)
    name = "MokList\0".encode("utf-16-le")
    while off + AUTH_VAR_HEADER.size <= store_end:
        (start, state, _, _, _, _, _, name_size, data_size,
         guid) = AUTH_VAR_HEADER.unpack_from(img, off)
        if start != START_ID:
            break
        body = off + AUTH_VAR_HEADER.size
        if (state == VAR_ADDED and uuid.UUID(bytes_le=guid) == SHIM_LOCK_GUID and
                img[body:body + name_size] == name):
            die(path + ": holds a MokList already")
        off = align4(body + name_size + data_size)
    data = signature_list(cert)
    var = AUTH_VAR_HEADER.pack(START_ID, VAR_ADDED, 0, ATTR_NV_BS, 0, bytes(16), 0,
                               len(name), len(data), SHIM_LOCK_GUID.bytes_le) + name + data
    if off + len(var) > store_end or any(b != 0xFF for b in img[off:off + len(var)]):
        die(path + ": no erased room for MokList at offset %#x" % off)
    img[off:off + len(var)] = var
    with open(path, "r+b") as f:
        f.write(img)


main()
