/* The compiled part of peerperf's data path: CRC32c and the parse of a steady-state SCTP packet.
 *
 * `steady_chunks(packet, verification_tag, last_tsn)` checks in one native call what aiortc's
 * `parse_packet` and `_handle_data` check per packet (length, CRC32c, verification tag, chunk
 * lengths) and answers whether the packet is the steady state peerperf's compiled path handles
 * without aiortc's per-chunk Python: only SACK chunks and DATA chunks that each hold one whole
 * message (B and E flags), with TSNs following `last_tsn` one by one. Anything else (gaps,
 * duplicates, fragments, FORWARD-TSN, RE-CONFIG, handshake, a bad checksum or length) returns None
 * and the packet goes through aiortc's own `_handle_data`, which parses it again and decides.
 *
 * No OpenSSL here: DTLS stays in pyOpenSSL's cffi calls (peerperf/peer/fast_path.py), since the
 * SSL* belongs to the OpenSSL linked into `cryptography`, not the system's libssl.
 *
 * Every length read from the packet is checked against the packet's size before use.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define COMMON_HEADER 12
#define CHUNK_HEADER 4
#define DATA_HEADER 12 /* TSN, stream id, stream sequence number, payload protocol id (after the chunk header) */
#define CHUNK_DATA 0
#define CHUNK_SACK 3
#define FIRST_AND_LAST 0x03

static uint32_t crc_table[8][256];

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t crc = i;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
        crc_table[0][i] = crc;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xFF];
}

/* CRC32c (Castagnoli, reflected), slicing by 8; `crc` is the running value before the final inversion. */
static uint32_t crc_update(uint32_t crc, const unsigned char *p, Py_ssize_t n) {
    while (n >= 8) {
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
        crc = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^ crc_table[5][(lo >> 16) & 0xFF] ^
              crc_table[4][lo >> 24] ^ crc_table[3][hi & 0xFF] ^ crc_table[2][(hi >> 8) & 0xFF] ^
              crc_table[1][(hi >> 16) & 0xFF] ^ crc_table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n-- > 0)
        crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xFF];
    return crc;
}

/* The SCTP checksum of `p`: CRC32c with the checksum field (bytes 8-11) read as zeros (RFC 4960 6.8). */
static uint32_t packet_checksum(const unsigned char *p, Py_ssize_t n) {
    static const unsigned char zeros[4] = {0, 0, 0, 0};
    uint32_t crc = crc_update(0xFFFFFFFFu, p, 8);
    crc = crc_update(crc, zeros, 4);
    crc = crc_update(crc, p + COMMON_HEADER, n - COMMON_HEADER);
    return crc ^ 0xFFFFFFFFu;
}

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint16_t be16(const unsigned char *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static PyObject *crc32c(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    uint32_t crc = crc_update(0xFFFFFFFFu, view.buf, view.len) ^ 0xFFFFFFFFu;
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong(crc);
}

/* One DATA chunk as (0, flags, tsn, stream_id, stream_seq, ppid, user_data); one SACK as (3, flags, body). */
static PyObject *data_item(const unsigned char *body, Py_ssize_t size, unsigned flags) {
    return Py_BuildValue("(iIkHHky#)", CHUNK_DATA, flags, (unsigned long)be32(body), be16(body + 4), be16(body + 6),
                         (unsigned long)be32(body + 8), (const char *)body + DATA_HEADER, size - DATA_HEADER);
}

static PyObject *steady_chunks(PyObject *self, PyObject *args) {
    Py_buffer view;
    unsigned long tag, last_tsn;
    if (!PyArg_ParseTuple(args, "y*kk", &view, &tag, &last_tsn))
        return NULL;
    const unsigned char *p = view.buf;
    Py_ssize_t n = view.len;
    PyObject *items = NULL;
    uint32_t expected = (uint32_t)last_tsn + 1u;
    if (n < COMMON_HEADER + CHUNK_HEADER || be32(p + 4) != (uint32_t)tag)
        goto fallback;
    uint32_t stored = (uint32_t)p[8] | (uint32_t)p[9] << 8 | (uint32_t)p[10] << 16 | (uint32_t)p[11] << 24;
    if (packet_checksum(p, n) != stored)
        goto fallback;
    items = PyList_New(0);
    if (items == NULL)
        goto error;
    Py_ssize_t pos = COMMON_HEADER;
    while (pos <= n - CHUNK_HEADER) { /* aiortc's loop: trailing bytes shorter than a chunk header are ignored */
        unsigned type = p[pos], flags = p[pos + 1];
        Py_ssize_t length = be16(p + pos + 2);
        if (length < CHUNK_HEADER || length > n - pos)
            goto fallback;
        const unsigned char *body = p + pos + CHUNK_HEADER;
        Py_ssize_t size = length - CHUNK_HEADER;
        PyObject *item;
        if (type == CHUNK_DATA) {
            if (size <= DATA_HEADER || (flags & FIRST_AND_LAST) != FIRST_AND_LAST || be32(body) != expected)
                goto fallback;
            expected++;
            item = data_item(body, size, flags);
        } else if (type == CHUNK_SACK) {
            /* cumulative TSN, rwnd, gap and duplicate counts, then 4 bytes per gap and per duplicate */
            if (size < 12 || size < 12 + 4 * ((Py_ssize_t)be16(body + 8) + be16(body + 10)))
                goto fallback;
            item = Py_BuildValue("(iIy#)", CHUNK_SACK, flags, (const char *)body, size);
        } else {
            goto fallback;
        }
        if (item == NULL)
            goto error;
        int failed = PyList_Append(items, item);
        Py_DECREF(item);
        if (failed < 0)
            goto error;
        pos += length + ((4 - (length & 3)) & 3);
    }
    if (PyList_GET_SIZE(items) == 0)
        goto fallback;
    PyBuffer_Release(&view);
    return items;
fallback:
    Py_XDECREF(items);
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
error:
    Py_XDECREF(items);
    PyBuffer_Release(&view);
    return NULL;
}

static PyMethodDef methods[] = {
    {"crc32c", crc32c, METH_O, "CRC32c (Castagnoli) of a bytes-like object."},
    {"steady_chunks", steady_chunks, METH_VARARGS,
     "steady_chunks(packet, verification_tag, last_tsn): the packet's SACK and whole-message DATA chunks, in "
     "order, when it is valid and in the steady state; None when aiortc's own parse must decide."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_datapath",
    .m_doc = "CRC32c and the steady-state SCTP packet check of peerperf's compiled data path.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__datapath(void) {
    crc_init();
    return PyModule_Create(&module);
}
