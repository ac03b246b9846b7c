/* The compiled part of peerperf's data path: CRC32c, the parse of a steady-state SCTP packet, the
 * receipt of a steady-state SACK and the packing of outgoing chunks into packets.
 *
 * `steady_chunks(packet, verification_tag, last_tsn)` checks in one native call what aiortc's
 * `parse_packet` and `_handle_data` check per packet (length, CRC32c, verification tag, chunk
 * lengths) and answers whether the packet is the steady state peerperf's compiled path handles
 * without aiortc's per-chunk Python: only SACK chunks and DATA chunks that each hold one whole
 * message (B and E flags), with TSNs following `last_tsn` one by one. Anything else (gaps,
 * duplicates, fragments, FORWARD-TSN, RE-CONFIG, handshake, a bad checksum or length) returns None
 * and the packet goes through aiortc's own `_handle_data`, which parses it again and decides.
 *
 * `sack_steady(sctp, body, now, userdata_max)` is aiortc's `_receive_sack_chunk` for a SACK that only
 * moves the cumulative TSN (no gap blocks, no duplicate TSNs, no fast recovery under way): it pops the
 * acknowledged chunks from `_sent_queue` and updates the flight size, cwnd and partial bytes acked on
 * the transport's own Python attributes, as aiortc does, and leaves the timers (T3, RTO) to
 * compiled_path.py, which calls aiortc's own methods for them. Any other SACK returns None before
 * anything is changed, and aiortc's method handles it.
 *
 * `serialize_packets(source_port, destination_port, verification_tag, chunks, max_length)` is the tuned
 * SCTP's `_send_corked` packing (peerperf/peer/sctp_tuning.py): aiortc's `bytes(chunk)` for each chunk
 * (DATA and SACK encoded here, any other chunk through its own `__bytes__`), grouped in order into
 * packets of at most `max_length` bytes, each with aiortc's common header and CRC32c.
 *
 * `unprotect` and `protect`, the DTLS records around those packets, are _dtls.c's.
 *
 * Every length read from the packet is checked against the packet's size before use.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "_dtls.h"

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

/* aiortc's uint32_gt: a > b in serial number arithmetic (a difference of exactly 2^31 is neither). */
static int tsn_gt(uint32_t a, uint32_t b) {
    return (a < b && b - a > 0x80000000u) || (a > b && a - b < 0x80000000u);
}

static PyObject *s_tsn, *s_acked, *s_book_size, *s_in_flight, *s_sent_count, *s_sent_time, *s_retransmit,
    *s_abandoned, *s_sent_queue, *s_outbound_queue, *s_last_sacked_tsn, *s_advanced_peer_ack_tsn, *s_flight_size,
    *s_cwnd, *s_ssthresh, *s_partial_bytes_acked, *s_fast_recovery_exit, *s_forward_tsn_streams, *s_popleft, *s_type,
    *s_flags, *s_stream_id, *s_stream_seq, *s_protocol, *s_user_data, *s_cumulative_tsn, *s_advertised_rwnd, *s_gaps,
    *s_duplicates;

static int intern_names(void) {
    struct {
        PyObject **slot;
        const char *name;
    } names[] = {
        {&s_tsn, "tsn"}, {&s_acked, "_acked"}, {&s_book_size, "_book_size"}, {&s_in_flight, "_in_flight"},
        {&s_sent_count, "_sent_count"}, {&s_sent_time, "_sent_time"}, {&s_retransmit, "_retransmit"},
        {&s_abandoned, "_abandoned"}, {&s_sent_queue, "_sent_queue"}, {&s_outbound_queue, "_outbound_queue"},
        {&s_last_sacked_tsn, "_last_sacked_tsn"}, {&s_advanced_peer_ack_tsn, "_advanced_peer_ack_tsn"},
        {&s_flight_size, "_flight_size"}, {&s_cwnd, "_cwnd"}, {&s_ssthresh, "_ssthresh"},
        {&s_partial_bytes_acked, "_partial_bytes_acked"}, {&s_fast_recovery_exit, "_fast_recovery_exit"},
        {&s_forward_tsn_streams, "_forward_tsn_streams"}, {&s_popleft, "popleft"}, {&s_type, "type"},
        {&s_flags, "flags"}, {&s_stream_id, "stream_id"}, {&s_stream_seq, "stream_seq"}, {&s_protocol, "protocol"},
        {&s_user_data, "user_data"}, {&s_cumulative_tsn, "cumulative_tsn"}, {&s_advertised_rwnd, "advertised_rwnd"},
        {&s_gaps, "gaps"}, {&s_duplicates, "duplicates"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if ((*names[i].slot = PyUnicode_InternFromString(names[i].name)) == NULL)
            return -1;
    return 0;
}

/* An attribute as an unsigned integer no larger than `max` (what struct.pack would accept); -1 and an
 * exception otherwise. */
static int get_field(PyObject *obj, PyObject *name, unsigned long max, unsigned long *out) {
    PyObject *value = PyObject_GetAttr(obj, name);
    if (value == NULL)
        return -1;
    unsigned long v = PyLong_AsUnsignedLong(value);
    Py_DECREF(value);
    if (v == (unsigned long)-1 && PyErr_Occurred())
        return -1;
    if (v > max) {
        PyErr_Format(PyExc_ValueError, "%U out of range: %lu (at most %lu)", name, v, max);
        return -1;
    }
    *out = v;
    return 0;
}

/* A 32-bit serial number attribute (a TSN); -1 and an exception when missing, not an int or too large. */
static int get_u32(PyObject *obj, PyObject *name, uint32_t *out) {
    unsigned long v;
    if (get_field(obj, name, 0xFFFFFFFFul, &v) < 0)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int get_ll(PyObject *obj, PyObject *name, long long *out) {
    PyObject *value = PyObject_GetAttr(obj, name);
    if (value == NULL)
        return -1;
    *out = PyLong_AsLongLong(value);
    Py_DECREF(value);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

static int set_ll(PyObject *obj, PyObject *name, long long v) {
    PyObject *value = PyLong_FromLongLong(v);
    if (value == NULL)
        return -1;
    int failed = PyObject_SetAttr(obj, name, value);
    Py_DECREF(value);
    return failed;
}

static int set_u32(PyObject *obj, PyObject *name, uint32_t v) {
    PyObject *value = PyLong_FromUnsignedLong(v);
    if (value == NULL)
        return -1;
    int failed = PyObject_SetAttr(obj, name, value);
    Py_DECREF(value);
    return failed;
}

/* The truth of an attribute; -1 with an exception set on failure. */
static int get_flag(PyObject *obj, PyObject *name) {
    PyObject *value = PyObject_GetAttr(obj, name);
    if (value == NULL)
        return -1;
    int truth = PyObject_IsTrue(value);
    Py_DECREF(value);
    return truth;
}

/* Whether the first item of deque `queue` (an attribute of `sctp`) has `flag` set; 0 when empty. */
static int head_flag(PyObject *sctp, PyObject *queue_name, PyObject *flag) {
    PyObject *queue = PyObject_GetAttr(sctp, queue_name);
    if (queue == NULL)
        return -1;
    Py_ssize_t size = PyObject_Size(queue);
    int result = size < 0 ? -1 : 0;
    if (size > 0) {
        PyObject *head = PySequence_GetItem(queue, 0);
        result = head == NULL ? -1 : get_flag(head, flag);
        Py_XDECREF(head);
    }
    Py_DECREF(queue);
    return result;
}

/* Whether any chunk left in `queue` waits for retransmission (then aiortc's `_transmit` has work). */
static int any_retransmit(PyObject *queue) {
    PyObject *iterator = PyObject_GetIter(queue);
    if (iterator == NULL)
        return -1;
    int found = 0;
    PyObject *chunk;
    while (!found && (chunk = PyIter_Next(iterator)) != NULL) {
        found = get_flag(chunk, s_retransmit);
        Py_DECREF(chunk);
    }
    Py_DECREF(iterator);
    return (found < 0 || PyErr_Occurred()) ? -1 : found;
}

/* Pops the chunks `cumulative` acknowledges from `queue`, as aiortc's loop does; the counts go out. */
static int pop_acked(PyObject *queue, uint32_t cumulative, double now, long long *done, long long *done_bytes,
                     long long *flight, PyObject **rtt) {
    for (;;) {
        Py_ssize_t size = PyObject_Size(queue);
        if (size < 0)
            return -1;
        if (size == 0)
            return 0;
        PyObject *head = PySequence_GetItem(queue, 0);
        if (head == NULL)
            return -1;
        uint32_t tsn;
        if (get_u32(head, s_tsn, &tsn) < 0)
            goto fail;
        if (!(cumulative == tsn || tsn_gt(cumulative, tsn))) {
            Py_DECREF(head);
            return 0;
        }
        PyObject *popped = PyObject_CallMethodNoArgs(queue, s_popleft);
        if (popped == NULL)
            goto fail;
        Py_DECREF(popped);
        (*done)++;
        long long book;
        int acked = get_flag(head, s_acked), in_flight = get_flag(head, s_in_flight);
        if (acked < 0 || in_flight < 0 || get_ll(head, s_book_size, &book) < 0)
            goto fail;
        if (!acked)
            *done_bytes += book;
        if (in_flight) { /* `_flight_size_decrease` */
            if (PyObject_SetAttr(head, s_in_flight, Py_False) < 0)
                goto fail;
            *flight -= book;
        }
        if (*done == 1) { /* the first chunk acknowledged, sent once: an RTT sample */
            long long sent_count;
            if (get_ll(head, s_sent_count, &sent_count) < 0)
                goto fail;
            if (sent_count == 1) {
                PyObject *sent_time = PyObject_GetAttr(head, s_sent_time);
                double sent = sent_time == NULL ? -1.0 : PyFloat_AsDouble(sent_time);
                Py_XDECREF(sent_time);
                if (sent == -1.0 && PyErr_Occurred())
                    goto fail;
                *rtt = PyFloat_FromDouble(now - sent);
                if (*rtt == NULL)
                    goto fail;
            }
        }
        Py_DECREF(head);
        continue;
    fail:
        Py_DECREF(head);
        return -1;
    }
}

static PyObject *sack_steady(PyObject *self, PyObject *args) {
    PyObject *sctp, *queue = NULL, *rtt = NULL, *fast_recovery;
    Py_buffer view;
    double now;
    long long userdata_max;
    if (!PyArg_ParseTuple(args, "Oy*dL", &sctp, &view, &now, &userdata_max))
        return NULL;
    const unsigned char *body = view.buf;
    int steady = view.len >= 12 && be16(body + 8) == 0 && be16(body + 10) == 0;
    uint32_t cumulative = steady ? be32(body) : 0;
    PyBuffer_Release(&view);
    if (!steady)
        Py_RETURN_NONE;
    if ((fast_recovery = PyObject_GetAttr(sctp, s_fast_recovery_exit)) == NULL)
        return NULL;
    Py_DECREF(fast_recovery);
    if (fast_recovery != Py_None)
        Py_RETURN_NONE; /* fast recovery: aiortc decides when it ends */
    uint32_t last_sacked, advanced;
    long long flight, cwnd, ssthresh, partial, done = 0, done_bytes = 0;
    if (get_u32(sctp, s_last_sacked_tsn, &last_sacked) < 0 || get_u32(sctp, s_advanced_peer_ack_tsn, &advanced) < 0 ||
        get_ll(sctp, s_flight_size, &flight) < 0 || get_ll(sctp, s_cwnd, &cwnd) < 0 ||
        get_ll(sctp, s_ssthresh, &ssthresh) < 0 || get_ll(sctp, s_partial_bytes_acked, &partial) < 0)
        return NULL;
    if (tsn_gt(last_sacked, cumulative)) /* an old SACK: aiortc ignores it */
        return Py_BuildValue("(iOOO)", -1, Py_None, Py_False, Py_False);
    if (set_u32(sctp, s_last_sacked_tsn, cumulative) < 0 || (queue = PyObject_GetAttr(sctp, s_sent_queue)) == NULL)
        return NULL;
    int fully_utilized = flight >= cwnd;
    if (pop_acked(queue, cumulative, now, &done, &done_bytes, &flight, &rtt) < 0 ||
        set_ll(sctp, s_flight_size, flight) < 0)
        goto error;
    if (done && fully_utilized) {
        if (cwnd <= ssthresh) { /* slow start */
            cwnd += done_bytes < userdata_max ? done_bytes : userdata_max;
        } else { /* congestion avoidance */
            partial += done_bytes;
            if (partial >= cwnd) {
                partial -= cwnd;
                cwnd += userdata_max;
            }
        }
        if (set_ll(sctp, s_cwnd, cwnd) < 0 || set_ll(sctp, s_partial_bytes_acked, partial) < 0)
            goto error;
    }
    /* `_update_advanced_peer_ack_point`'s first step; the rest has work only in these cases */
    if (tsn_gt(cumulative, advanced) && set_u32(sctp, s_advanced_peer_ack_tsn, (advanced = cumulative)) < 0)
        goto error;
    int abandoned_sent = head_flag(sctp, s_sent_queue, s_abandoned);
    int abandoned_queued = head_flag(sctp, s_outbound_queue, s_abandoned);
    PyObject *streams = PyObject_GetAttr(sctp, s_forward_tsn_streams);
    int streams_left = streams == NULL ? -1 : PyObject_IsTrue(streams);
    Py_XDECREF(streams);
    int retransmit = any_retransmit(queue);
    if (abandoned_sent < 0 || abandoned_queued < 0 || streams_left < 0 || retransmit < 0)
        goto error;
    int ack_point = abandoned_sent || abandoned_queued || streams_left || tsn_gt(advanced, cumulative);
    Py_DECREF(queue);
    PyObject *result = Py_BuildValue("(LOOO)", done, rtt == NULL ? Py_None : rtt, ack_point ? Py_True : Py_False,
                                     retransmit ? Py_True : Py_False);
    Py_XDECREF(rtt);
    return result;
error:
    Py_XDECREF(queue);
    Py_XDECREF(rtt);
    return NULL;
}

/* The bytes of the packet being built: the 12-byte common header, then its chunks. */
typedef struct {
    unsigned char *p;
    Py_ssize_t len, cap;
} Buffer;

static unsigned char *reserve(Buffer *b, Py_ssize_t more) {
    if (b->len + more > b->cap) {
        Py_ssize_t cap = (b->len + more) * 2;
        unsigned char *p = PyMem_Realloc(b->p, cap);
        if (p == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        b->p = p;
        b->cap = cap;
    }
    unsigned char *at = b->p + b->len;
    b->len += more;
    return at;
}

static void put32(unsigned char *p, uint32_t v) {
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

static void put16(unsigned char *p, uint16_t v) {
    p[0] = v >> 8;
    p[1] = v;
}

static int item_field(PyObject *item, unsigned long max, unsigned long *out) {
    unsigned long v = PyLong_AsUnsignedLong(item);
    if (v == (unsigned long)-1 && PyErr_Occurred())
        return -1;
    if (v > max) {
        PyErr_Format(PyExc_ValueError, "SACK field out of range: %lu", v);
        return -1;
    }
    *out = v;
    return 0;
}

/* aiortc's `DataChunk.__bytes__`: header, user data, zero padding to 4 bytes. */
static int encode_data(Buffer *b, PyObject *chunk) {
    unsigned long flags, tsn, stream_id, stream_seq, protocol;
    if (get_field(chunk, s_flags, 0xFF, &flags) < 0 || get_field(chunk, s_tsn, 0xFFFFFFFFul, &tsn) < 0 ||
        get_field(chunk, s_stream_id, 0xFFFF, &stream_id) < 0 ||
        get_field(chunk, s_stream_seq, 0xFFFF, &stream_seq) < 0 ||
        get_field(chunk, s_protocol, 0xFFFFFFFFul, &protocol) < 0)
        return -1;
    PyObject *user_data = PyObject_GetAttr(chunk, s_user_data);
    if (user_data == NULL)
        return -1;
    Py_buffer view;
    int failed = PyObject_GetBuffer(user_data, &view, PyBUF_SIMPLE);
    Py_DECREF(user_data);
    if (failed < 0)
        return -1;
    Py_ssize_t length = 16 + view.len, padded = length + ((4 - (length & 3)) & 3);
    unsigned char *p = length > 0xFFFF ? NULL : reserve(b, padded);
    if (p == NULL) {
        if (length > 0xFFFF)
            PyErr_SetString(PyExc_ValueError, "DATA chunk longer than 65535 bytes");
        PyBuffer_Release(&view);
        return -1;
    }
    p[0] = CHUNK_DATA;
    p[1] = (unsigned char)flags;
    put16(p + 2, (uint16_t)length);
    put32(p + 4, (uint32_t)tsn);
    put16(p + 8, (uint16_t)stream_id);
    put16(p + 10, (uint16_t)stream_seq);
    put32(p + 12, (uint32_t)protocol);
    memcpy(p + 16, view.buf, view.len);
    memset(p + length, 0, padded - length);
    PyBuffer_Release(&view);
    return 0;
}

/* aiortc's `SackChunk.__bytes__`: header, then each gap (start, end) and each duplicate TSN. */
static int encode_sack(Buffer *b, PyObject *chunk) {
    unsigned long flags, cumulative, rwnd;
    if (get_field(chunk, s_flags, 0xFF, &flags) < 0 || get_field(chunk, s_cumulative_tsn, 0xFFFFFFFFul, &cumulative) < 0 ||
        get_field(chunk, s_advertised_rwnd, 0xFFFFFFFFul, &rwnd) < 0)
        return -1;
    PyObject *gaps = PyObject_GetAttr(chunk, s_gaps), *duplicates = NULL, *gap_list = NULL, *dup_list = NULL;
    int result = -1;
    if (gaps == NULL || (duplicates = PyObject_GetAttr(chunk, s_duplicates)) == NULL ||
        (gap_list = PySequence_Fast(gaps, "SACK gaps must be a sequence")) == NULL ||
        (dup_list = PySequence_Fast(duplicates, "SACK duplicates must be a sequence")) == NULL)
        goto done;
    Py_ssize_t n_gaps = PySequence_Fast_GET_SIZE(gap_list), n_dups = PySequence_Fast_GET_SIZE(dup_list);
    Py_ssize_t length = 16 + 4 * (n_gaps + n_dups);
    if (n_gaps > 0xFFFF || n_dups > 0xFFFF || length > 0xFFFF) {
        PyErr_SetString(PyExc_ValueError, "SACK chunk longer than 65535 bytes");
        goto done;
    }
    Py_ssize_t start = b->len;
    unsigned char *p = reserve(b, length);
    if (p == NULL)
        goto done;
    p[0] = CHUNK_SACK;
    p[1] = (unsigned char)flags;
    put16(p + 2, (uint16_t)length);
    put32(p + 4, (uint32_t)cumulative);
    put32(p + 8, (uint32_t)rwnd);
    put16(p + 12, (uint16_t)n_gaps);
    put16(p + 14, (uint16_t)n_dups);
    for (Py_ssize_t i = 0; i < n_gaps; i++) {
        PyObject *pair = PySequence_Fast(PySequence_Fast_GET_ITEM(gap_list, i), "a SACK gap must be a pair");
        unsigned long first, last;
        int bad = pair == NULL || PySequence_Fast_GET_SIZE(pair) != 2 ||
                  item_field(PySequence_Fast_GET_ITEM(pair, 0), 0xFFFF, &first) < 0 ||
                  item_field(PySequence_Fast_GET_ITEM(pair, 1), 0xFFFF, &last) < 0;
        if (bad && pair != NULL && !PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "a SACK gap must be a pair");
        Py_XDECREF(pair);
        if (bad) {
            b->len = start;
            goto done;
        }
        put16(p + 16 + 4 * i, (uint16_t)first);
        put16(p + 18 + 4 * i, (uint16_t)last);
    }
    for (Py_ssize_t i = 0; i < n_dups; i++) {
        unsigned long tsn;
        if (item_field(PySequence_Fast_GET_ITEM(dup_list, i), 0xFFFFFFFFul, &tsn) < 0) {
            b->len = start;
            goto done;
        }
        put32(p + 16 + 4 * (n_gaps + i), (uint32_t)tsn);
    }
    result = 0;
done:
    Py_XDECREF(gaps);
    Py_XDECREF(duplicates);
    Py_XDECREF(gap_list);
    Py_XDECREF(dup_list);
    return result;
}

/* Any other chunk: its own `__bytes__`. */
static int encode_other(Buffer *b, PyObject *chunk) {
    PyObject *encoded = PyObject_Bytes(chunk);
    if (encoded == NULL)
        return -1;
    unsigned char *p = reserve(b, PyBytes_GET_SIZE(encoded));
    if (p != NULL)
        memcpy(p, PyBytes_AS_STRING(encoded), PyBytes_GET_SIZE(encoded));
    Py_DECREF(encoded);
    return p == NULL ? -1 : 0;
}

/* The first `n` bytes of `b` as a packet: the header's ports and tag, then the CRC32c over it all. */
static int emit(PyObject *packets, Buffer *b, Py_ssize_t n, uint16_t source, uint16_t destination, uint32_t tag) {
    unsigned char *p = b->p;
    put16(p, source);
    put16(p + 2, destination);
    put32(p + 4, tag);
    uint32_t crc = packet_checksum(p, n);
    p[8] = crc;
    p[9] = crc >> 8;
    p[10] = crc >> 16;
    p[11] = crc >> 24;
    PyObject *packet = PyBytes_FromStringAndSize((const char *)p, n);
    if (packet == NULL)
        return -1;
    int failed = PyList_Append(packets, packet);
    Py_DECREF(packet);
    return failed;
}

static PyObject *serialize_packets(PyObject *self, PyObject *args) {
    unsigned int source, destination;
    unsigned long tag;
    PyObject *chunks;
    Py_ssize_t max_length;
    if (!PyArg_ParseTuple(args, "IIkOn", &source, &destination, &tag, &chunks, &max_length))
        return NULL;
    if (source > 0xFFFF || destination > 0xFFFF || tag > 0xFFFFFFFFul) {
        PyErr_SetString(PyExc_ValueError, "port or verification tag out of range");
        return NULL;
    }
    PyObject *sequence = PySequence_Fast(chunks, "chunks must be a sequence"), *packets = NULL;
    Buffer b = {NULL, 0, 0};
    if (sequence == NULL || (packets = PyList_New(0)) == NULL || reserve(&b, COMMON_HEADER) == NULL)
        goto error;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(sequence); i++) {
        PyObject *chunk = PySequence_Fast_GET_ITEM(sequence, i);
        unsigned long type;
        Py_ssize_t start = b.len;
        if (get_field(chunk, s_type, 0xFF, &type) < 0)
            goto error;
        int failed = type == CHUNK_DATA ? encode_data(&b, chunk)
                     : type == CHUNK_SACK ? encode_sack(&b, chunk)
                                          : encode_other(&b, chunk);
        if (failed < 0)
            goto error;
        Py_ssize_t length = b.len - start;
        if (start > COMMON_HEADER && start + length > max_length) { /* the packet so far leaves first */
            if (emit(packets, &b, start, source, destination, tag) < 0)
                goto error;
            memmove(b.p + COMMON_HEADER, b.p + start, length);
            b.len = COMMON_HEADER + length;
        }
    }
    if (b.len > COMMON_HEADER && emit(packets, &b, b.len, source, destination, tag) < 0)
        goto error;
    PyMem_Free(b.p);
    Py_DECREF(sequence);
    return packets;
error:
    PyMem_Free(b.p);
    Py_XDECREF(sequence);
    Py_XDECREF(packets);
    return NULL;
}

static PyMethodDef methods[] = {
    {"crc32c", crc32c, METH_O, "CRC32c (Castagnoli) of a bytes-like object."},
    {"steady_chunks", steady_chunks, METH_VARARGS,
     "steady_chunks(packet, verification_tag, last_tsn): the packet's SACK and whole-message DATA chunks, in "
     "order, when it is valid and in the steady state; None when aiortc's own parse must decide."},
    {"sack_steady", sack_steady, METH_VARARGS,
     "sack_steady(sctp, body, now, userdata_max): aiortc's `_receive_sack_chunk` up to its timers for a SACK "
     "with no gap blocks or duplicates outside fast recovery: (acked, rtt, ack_point, retransmit), acked -1 for "
     "an old SACK; None, with nothing changed, when aiortc's own method must handle it."},
    {"serialize_packets", serialize_packets, METH_VARARGS,
     "serialize_packets(source_port, destination_port, verification_tag, chunks, max_length): the chunks "
     "as aiortc encodes them, in order, grouped into SCTP packets of at most max_length bytes with their "
     "CRC32c."},
    {"bind_openssl", bind_openssl, METH_VARARGS,
     "bind_openssl(ssl_read, ssl_write, bio_read, bio_write, ssl_get_error): the addresses of the OpenSSL "
     "functions pyOpenSSL's SSL* belongs to (cryptography's), which unprotect and protect call."},
    {"unprotect", unprotect, METH_VARARGS,
     "unprotect(ssl, into_bio, from_bio, datagram): (plaintexts, SSL_get_error of the last read, datagram "
     "OpenSSL wants sent or None) for a datagram of whole application-data records; None, touching nothing, "
     "for any other datagram."},
    {"protect", protect, METH_VARARGS,
     "protect(ssl, from_bio, plaintext): the DTLS datagram for `plaintext` (None if OpenSSL has nothing to "
     "send), or SSL_write's result when it failed."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_datapath",
    .m_doc = "The compiled data path's native calls: DTLS records, CRC32c, the steady-state SCTP packet and SACK, "
              "outgoing packets.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__datapath(void) {
    crc_init();
    if (intern_names() < 0)
        return NULL;
    return PyModule_Create(&module);
}
