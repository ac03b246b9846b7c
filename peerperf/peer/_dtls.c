/* DTLS application-data records of an established association, one native call per datagram each way,
 * on the SSL* and memory BIOs pyOpenSSL created for aiortc's handshake.
 *
 * That SSL* belongs to the OpenSSL linked into `cryptography`, not to the system's libssl, so this file
 * links to no OpenSSL: `bind_openssl` is handed the addresses of cryptography's own SSL_read, SSL_write,
 * BIO_read, BIO_write and SSL_get_error (cffi's `ffi.addressof`, signatures checked first by
 * peerperf/peer/native.py) and calls through them.
 *
 * `unprotect(ssl, into_bio, from_bio, datagram)` is what peerperf/peer/fast_path.py's `FastReceiver.datagram`
 * does through cffi: the datagram into OpenSSL, every plaintext record out, and whatever OpenSSL wants to
 * send back. It first checks that the datagram is whole application-data records (RFC 6347 4.1) and
 * returns None, touching nothing, when it is not: those take aiortc's own path.
 * `protect(ssl, from_bio, plaintext)` is `FastReceiver.send_now`'s SSL_write and one BIO_read.
 *
 * The GIL is held throughout, so the static buffers have one user at a time.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "_dtls.h"

#define RECORD_HEADER 13
#define APPLICATION_DATA 23
#define MAX_RECORD 16384 /* the largest DTLS plaintext record (RFC 6347 4.1, 2^14) */
#define WRITE_CHUNK 1500 /* aiortc's `_write_ssl` reads at most this much per datagram */

typedef int (*ssl_io)(void *ssl, void *buffer, int length);
typedef int (*bio_read_fn)(void *bio, void *buffer, int length);
typedef int (*bio_write_fn)(void *bio, const void *buffer, int length);
typedef int (*ssl_get_error_fn)(const void *ssl, int result);

static ssl_io ssl_read, ssl_write;
static bio_read_fn bio_read;
static bio_write_fn bio_write;
static ssl_get_error_fn ssl_get_error;

static unsigned char read_buffer[MAX_RECORD];
static unsigned char write_buffer[WRITE_CHUNK];

PyObject *bind_openssl(PyObject *self, PyObject *args) {
    unsigned long long addresses[5];
    if (!PyArg_ParseTuple(args, "KKKKK", &addresses[0], &addresses[1], &addresses[2], &addresses[3],
                          &addresses[4]))
        return NULL;
    for (int i = 0; i < 5; i++)
        if (addresses[i] == 0) {
            PyErr_SetString(PyExc_ValueError, "a null OpenSSL function address");
            return NULL;
        }
    ssl_read = (ssl_io)(uintptr_t)addresses[0];
    ssl_write = (ssl_io)(uintptr_t)addresses[1];
    bio_read = (bio_read_fn)(uintptr_t)addresses[2];
    bio_write = (bio_write_fn)(uintptr_t)addresses[3];
    ssl_get_error = (ssl_get_error_fn)(uintptr_t)addresses[4];
    Py_RETURN_NONE;
}

static int bound(void) {
    if (ssl_read == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "bind_openssl was not called");
        return 0;
    }
    return 1;
}

static int pointers(void *const *values, int count) {
    for (int i = 0; i < count; i++)
        if (values[i] == NULL) {
            PyErr_SetString(PyExc_ValueError, "a null SSL or BIO pointer");
            return 0;
        }
    return 1;
}

/* Whether `data` is one or more whole DTLS records, every one application data (fast_path.py's
 * `application_data_only`). */
static int application_data_only(const unsigned char *data, Py_ssize_t size) {
    Py_ssize_t position = 0;
    if (size == 0)
        return 0;
    while (position < size) {
        if (size - position < RECORD_HEADER || data[position] != APPLICATION_DATA)
            return 0;
        position += RECORD_HEADER + ((Py_ssize_t)data[position + 11] << 8 | data[position + 12]);
    }
    return position == size;
}

/* What OpenSSL has to send (at most WRITE_CHUNK bytes, as aiortc reads it), or None. */
static PyObject *pending_output(void *from_bio) {
    int written = bio_read(from_bio, write_buffer, WRITE_CHUNK);
    if (written > 0)
        return PyBytes_FromStringAndSize((const char *)write_buffer, written);
    Py_RETURN_NONE;
}

PyObject *unprotect(PyObject *self, PyObject *args) {
    unsigned long long ssl_address, into_address, from_address;
    Py_buffer datagram;
    if (!PyArg_ParseTuple(args, "KKKy*", &ssl_address, &into_address, &from_address, &datagram))
        return NULL;
    PyObject *plaintexts = NULL, *outgoing = NULL, *result = NULL;
    void *ssl = (void *)(uintptr_t)ssl_address, *into_bio = (void *)(uintptr_t)into_address,
         *from_bio = (void *)(uintptr_t)from_address;
    void *const all[] = {ssl, into_bio, from_bio};
    if (datagram.len > INT_MAX || !application_data_only(datagram.buf, datagram.len)) {
        PyBuffer_Release(&datagram);
        Py_RETURN_NONE;
    }
    if (!bound() || !pointers(all, 3) || (plaintexts = PyList_New(0)) == NULL)
        goto done;
    bio_write(into_bio, datagram.buf, (int)datagram.len);
    int read;
    while ((read = ssl_read(ssl, read_buffer, MAX_RECORD)) > 0) {
        PyObject *plaintext = PyBytes_FromStringAndSize((const char *)read_buffer, read);
        if (plaintext == NULL || PyList_Append(plaintexts, plaintext) < 0) {
            Py_XDECREF(plaintext);
            goto done;
        }
        Py_DECREF(plaintext);
    }
    int error = ssl_get_error(ssl, read);
    if ((outgoing = pending_output(from_bio)) != NULL)
        result = Py_BuildValue("(OiO)", plaintexts, error, outgoing);
done:
    PyBuffer_Release(&datagram);
    Py_XDECREF(plaintexts);
    Py_XDECREF(outgoing);
    return result;
}

PyObject *protect(PyObject *self, PyObject *args) {
    unsigned long long ssl_address, from_address;
    Py_buffer plaintext;
    if (!PyArg_ParseTuple(args, "KKy*", &ssl_address, &from_address, &plaintext))
        return NULL;
    PyObject *result = NULL;
    void *ssl = (void *)(uintptr_t)ssl_address, *from_bio = (void *)(uintptr_t)from_address;
    void *const all[] = {ssl, from_bio};
    if (plaintext.len > INT_MAX) {
        PyErr_SetString(PyExc_OverflowError, "a plaintext longer than an int");
        goto done;
    }
    if (!bound() || !pointers(all, 2))
        goto done;
    int written = ssl_write(ssl, plaintext.buf, (int)plaintext.len);
    result = written <= 0 ? PyLong_FromLong(written) : pending_output(from_bio);
done:
    PyBuffer_Release(&plaintext);
    return result;
}
