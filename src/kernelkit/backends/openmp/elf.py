"""A structural check of a shared library before dlopen: every byte the loader maps must be in the file.

dlopen maps each PT_LOAD segment of an ELF file with mmap; if the file is shorter than a segment says (a
truncated or garbled cache entry), touching the missing pages raises SIGBUS and kills the process, before any
error can be reported. The cache's sha256 check catches entries whose record is intact; this check catches the
rest (a record rewritten to match a truncated binary, a file replaced by something that is not a library), so
such an entry is rebuilt instead of crashing the process.
"""

from __future__ import annotations

import os
import struct

_PT_LOAD = 1


def problem(path: str) -> str | None:
    """Why `path` cannot be a complete ELF shared library for this process, or None when it looks whole."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(64)
            if len(head) < 52 or head[:4] != b"\x7fELF":
                return "not an ELF file"
            cls, data = head[4], head[5]
            if cls not in (1, 2) or data not in (1, 2):
                return "an ELF header of unknown class or byte order"
            end = "<" if data == 1 else ">"
            if cls == 2:
                if len(head) < 64:
                    return "a truncated ELF header"
                phoff, shoff = struct.unpack_from(end + "QQ", head, 32)
                phentsize, phnum, shentsize, shnum = struct.unpack_from(end + "HHHH", head, 54)
                ph_fmt, ph_min = end + "IIQQQQ", 40  # p_type p_flags p_offset p_vaddr p_paddr p_filesz
            else:
                phoff, shoff = struct.unpack_from(end + "II", head, 28)
                phentsize, phnum, shentsize, shnum = struct.unpack_from(end + "HHHH", head, 42)
                ph_fmt, ph_min = end + "IIIII", 20  # p_type p_offset p_vaddr p_paddr p_filesz
            if phnum == 0 or phentsize < ph_min or phoff + phnum * phentsize > size:
                return "its program headers are missing or beyond the end of the file"
            if shnum and shoff + shnum * shentsize > size:
                return "its section headers are beyond the end of the file (truncated)"
            f.seek(phoff)
            table = f.read(phnum * phentsize)
    except OSError as e:
        return f"it cannot be read ({e.strerror})"
    for k in range(phnum):
        fields = struct.unpack_from(ph_fmt, table, k * phentsize)
        if cls == 2:
            p_type, _flags, p_offset, _va, _pa, p_filesz = fields
        else:
            p_type, p_offset, _va, _pa, p_filesz = fields
        if p_type == _PT_LOAD and p_offset + p_filesz > size:
            return f"a loadable segment ends at byte {p_offset + p_filesz}, beyond the file's {size} (truncated)"
    return None
