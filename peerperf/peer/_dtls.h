/* The DTLS record calls of peerperf's compiled data path (_dtls.c), in the _datapath module's method table. */
#ifndef PEERPERF_DTLS_H
#define PEERPERF_DTLS_H

#include <Python.h>

PyObject *bind_openssl(PyObject *self, PyObject *args);
PyObject *unprotect(PyObject *self, PyObject *args);
PyObject *protect(PyObject *self, PyObject *args);

#endif
