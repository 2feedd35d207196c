/* The per-viewer half of forwarding, compiled: one call per arriving packet walks its
 * viewers, rewrites the RTP header for each, SRTP-protects it with the viewer's context and
 * sends it on the viewer's socket: what arrived together goes as one UDP GSO train
 * (sendmsg with UDP_SEGMENT), one sendto per packet where the kernel cannot.
 *
 * Why C: in Python the same loop costs 7.5-8 us per viewer per packet inside a busy server
 * (bench/RESULTS.md, issue 10), of which the kernel's sendto is 2.6 and libsrtp about 1.5;
 * the rest was the interpreter. Everything else about forwarding (keyframes, history,
 * retransmission mapping, extension rendering) stays in server/media/rtp_forwarding.py.
 *
 * Route      the rewriting state of one viewer of one track; Subscriber subclasses it.
 * UdpSink    a viewer's socket, address and SRTP context; callable as rtp_forwarding.Sink.
 * forward()  the loop: one packet, every live route.
 *
 * libsrtp is pylibsrtp's own copy: its srtp_protect is reached through the function pointer
 * the glue takes from pylibsrtp's cffi module, so nothing here links against it. The GIL is
 * held throughout, which is what makes one static packet buffer safe.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* pylibsrtp's Session buffer is 1500 bytes, trailer included: the same bound here. */
#define PACKET_BUFFER 1500
#define SRTP_MAX_TRAILER 144 /* SRTP_MAX_TRAILER_LEN in libsrtp 2 */
#define SRTCP_MAX_TRAILER 148 /* SRTP_MAX_SRTCP_TRAILER_LEN */
#define RTP_HEADER 12

#define BATCH_SLOTS 64       /* packets of one batch built at once for one viewer */
#define GSO_SEGMENTS 32      /* datagrams in one segmented send (the kernel allows 64) */
#define GSO_BYTES 60000      /* and their bytes, under UDP's 64 KiB */
#define MAX_PADDING 255      /* RTP padding's count is one byte */

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

typedef int (*srtp_protect_fn)(void *context, void *packet, int *length);

static _Alignas(16) unsigned char packet_buffer[PACKET_BUFFER + 64];
static _Alignas(16) unsigned char batch_buffers[BATCH_SLOTS][PACKET_BUFFER + 64];

/* UDP segmentation offload: off for good once the kernel or the route refuses it. */
static int gso_usable = 1;
static unsigned long long gso_sends = 0;

/* -- UdpSink ------------------------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    void *context;           /* srtp_t */
    srtp_protect_fn protect;
    srtp_protect_fn protect_rtcp; /* NULL: this sink sends no RTCP */
    PyObject *keepalive;     /* the pylibsrtp Session owning context */
    int fd;                  /* our own dup of the viewer's socket */
    struct sockaddr_storage address;
    socklen_t address_length;
    unsigned long long sent;
    unsigned long long refused;
} UdpSink;

static PyTypeObject UdpSinkType;

enum send_result { SEND_DROPPED = 0, SEND_SENT = 1, SEND_BACKED_UP = 2 };

/* Write one RTP packet (header, body, padding up to ``padding`` bytes) into ``packet`` and
 * protect it there; its protected length, or -1 when SRTP refuses it. */
static int build_packet(UdpSink *sink, unsigned char *packet, unsigned int first_bits,
                        unsigned int sequence, uint32_t timestamp, uint32_t ssrc,
                        const unsigned char *body, Py_ssize_t body_length, int padding) {
    Py_ssize_t size = RTP_HEADER + body_length + padding;
    if (size > PACKET_BUFFER - SRTP_MAX_TRAILER) {
        return -1; /* longer than SRTP allows: the viewer NACKs it in vain */
    }
    if (padding) {
        first_bits |= 0x2000; /* the P bit */
    }
    packet[0] = (unsigned char)(first_bits >> 8);
    packet[1] = (unsigned char)first_bits;
    packet[2] = (unsigned char)(sequence >> 8);
    packet[3] = (unsigned char)sequence;
    packet[4] = (unsigned char)(timestamp >> 24);
    packet[5] = (unsigned char)(timestamp >> 16);
    packet[6] = (unsigned char)(timestamp >> 8);
    packet[7] = (unsigned char)timestamp;
    packet[8] = (unsigned char)(ssrc >> 24);
    packet[9] = (unsigned char)(ssrc >> 16);
    packet[10] = (unsigned char)(ssrc >> 8);
    packet[11] = (unsigned char)ssrc;
    memcpy(packet + RTP_HEADER, body, (size_t)body_length);
    if (padding) {
        memset(packet + RTP_HEADER + body_length, 0, (size_t)padding - 1);
        packet[size - 1] = (unsigned char)padding;
    }
    int length = (int)size;
    if (sink->protect(sink->context, packet, &length) != 0) {
        return -1;
    }
    return length;
}

static enum send_result sent_or_refused(UdpSink *sink, ssize_t written, unsigned int datagrams) {
    if (written < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
            sink->refused += datagrams;
            return SEND_BACKED_UP;
        }
        return SEND_DROPPED; /* the viewer's network went away; ICE will notice */
    }
    sink->sent += datagrams;
    return SEND_SENT;
}

static enum send_result send_one(UdpSink *sink, const unsigned char *packet, int length) {
    ssize_t written = sendto(sink->fd, packet, (size_t)length, MSG_DONTWAIT,
                             (struct sockaddr *)&sink->address, sink->address_length);
    return sent_or_refused(sink, written, 1);
}

/* Send ``count`` protected packets as one segmented datagram train (every one but the last
 * ``segment`` bytes long); one by one when the kernel will not segment. */
static enum send_result send_segmented(UdpSink *sink, unsigned char *const *packets,
                                       const int *lengths, unsigned int count, int segment) {
    if (count == 1 || !gso_usable) {
        for (unsigned int index = 0; index < count; index++) {
            enum send_result result = send_one(sink, packets[index], lengths[index]);
            if (result == SEND_BACKED_UP) {
                return result;
            }
        }
        return SEND_SENT;
    }
    struct iovec vectors[GSO_SEGMENTS];
    for (unsigned int index = 0; index < count; index++) {
        vectors[index].iov_base = packets[index];
        vectors[index].iov_len = (size_t)lengths[index];
    }
    union {
        char buffer[CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof(control));
    struct msghdr message = {
        .msg_name = &sink->address,
        .msg_namelen = sink->address_length,
        .msg_iov = vectors,
        .msg_iovlen = count,
        .msg_control = control.buffer,
        .msg_controllen = sizeof(control.buffer),
    };
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_UDP;
    header->cmsg_type = UDP_SEGMENT;
    header->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    uint16_t segment_size = (uint16_t)segment;
    memcpy(CMSG_DATA(header), &segment_size, sizeof(segment_size));
    ssize_t written = sendmsg(sink->fd, &message, MSG_DONTWAIT);
    if (written < 0 && (errno == EIO || errno == EINVAL || errno == ENOPROTOOPT ||
                        errno == EOPNOTSUPP)) {
        gso_usable = 0; /* no checksum offload on the route, or an old kernel */
        return send_segmented(sink, packets, lengths, count, segment);
    }
    if (written >= 0) {
        gso_sends++;
    }
    return sent_or_refused(sink, written, count);
}

static enum send_result udp_sink_send(UdpSink *sink, unsigned int first_bits,
                                      unsigned int sequence, uint32_t timestamp, uint32_t ssrc,
                                      const unsigned char *body, Py_ssize_t body_length) {
    if (sink->fd < 0) {
        return SEND_DROPPED;
    }
    int length = build_packet(sink, packet_buffer, first_bits, sequence, timestamp, ssrc, body,
                              body_length, 0);
    if (length < 0) {
        return SEND_DROPPED;
    }
    return send_one(sink, packet_buffer, length);
}

static int parse_address(PyObject *address, int family, struct sockaddr_storage *out,
                         socklen_t *out_length) {
    const char *host;
    int port;
    unsigned int flowinfo = 0, scope_id = 0;
    if (!PyArg_ParseTuple(address, "si|II", &host, &port, &flowinfo, &scope_id)) {
        return -1;
    }
    if (port < 0 || port > 65535) {
        PyErr_SetString(PyExc_ValueError, "port out of range");
        return -1;
    }
    memset(out, 0, sizeof(*out));
    if (family == AF_INET) {
        struct sockaddr_in *v4 = (struct sockaddr_in *)out;
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &v4->sin_addr) != 1) {
            PyErr_Format(PyExc_ValueError, "not an IPv4 address: %s", host);
            return -1;
        }
        *out_length = sizeof(*v4);
        return 0;
    }
    if (family == AF_INET6) {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        v6->sin6_flowinfo = htonl(flowinfo);
        v6->sin6_scope_id = scope_id;
        if (inet_pton(AF_INET6, host, &v6->sin6_addr) != 1) {
            PyErr_Format(PyExc_ValueError, "not an IPv6 address: %s", host);
            return -1;
        }
        *out_length = sizeof(*v6);
        return 0;
    }
    PyErr_Format(PyExc_ValueError, "unsupported address family %d", family);
    return -1;
}

static int UdpSink_init(UdpSink *self, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"context", "protect", "keepalive", "fd", "family", "address",
                               "protect_rtcp", NULL};
    unsigned long long context, protect, protect_rtcp = 0;
    PyObject *keepalive, *address;
    int fd, family;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "KKOiiO!|K", keywords, &context, &protect,
                                     &keepalive, &fd, &family, &PyTuple_Type, &address,
                                     &protect_rtcp)) {
        return -1;
    }
    if (context == 0 || protect == 0) {
        PyErr_SetString(PyExc_ValueError, "context and protect must be non-null addresses");
        return -1;
    }
    if (self->fd >= 0) {
        PyErr_SetString(PyExc_RuntimeError, "UdpSink is already initialised");
        return -1;
    }
    if (parse_address(address, family, &self->address, &self->address_length) < 0) {
        return -1;
    }
    /* Our own descriptor: when asyncio closes its socket, this number cannot come back as
     * someone else's socket while the sink lives. */
    int own = dup(fd);
    if (own < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    self->fd = own;
    self->context = (void *)(uintptr_t)context;
    self->protect = (srtp_protect_fn)(uintptr_t)protect;
    self->protect_rtcp = (srtp_protect_fn)(uintptr_t)protect_rtcp;
    Py_INCREF(keepalive);
    Py_XSETREF(self->keepalive, keepalive);
    return 0;
}

static PyObject *UdpSink_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    UdpSink *self = (UdpSink *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->fd = -1;
    }
    return (PyObject *)self;
}

static PyObject *UdpSink_close(UdpSink *self, PyObject *Py_UNUSED(ignored)) {
    if (self->fd >= 0) {
        close(self->fd);
        self->fd = -1;
    }
    Py_RETURN_NONE;
}

static int UdpSink_traverse(UdpSink *self, visitproc visit, void *arg) {
    Py_VISIT(self->keepalive);
    return 0;
}

static int UdpSink_clear(UdpSink *self) {
    Py_CLEAR(self->keepalive);
    return 0;
}

static void UdpSink_dealloc(UdpSink *self) {
    PyObject_GC_UnTrack(self);
    if (self->fd >= 0) {
        close(self->fd);
    }
    UdpSink_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int read_uint(PyObject *value, unsigned long limit, unsigned long *out, const char *name) {
    unsigned long number = PyLong_AsUnsignedLong(value);
    if (number == (unsigned long)-1 && PyErr_Occurred()) {
        return -1;
    }
    if (number > limit) {
        PyErr_Format(PyExc_ValueError, "%s out of range", name);
        return -1;
    }
    *out = number;
    return 0;
}

/* sink(first_bits, sequence, timestamp, ssrc, body) -> bool, as rtp_forwarding.Sink. */
static PyObject *UdpSink_call(UdpSink *self, PyObject *args, PyObject *kwargs) {
    PyObject *first_bits_o, *sequence_o, *timestamp_o, *ssrc_o;
    Py_buffer body;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) {
        PyErr_SetString(PyExc_TypeError, "UdpSink takes positional arguments only");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "OOOOy*", &first_bits_o, &sequence_o, &timestamp_o, &ssrc_o,
                          &body)) {
        return NULL;
    }
    unsigned long first_bits, sequence, timestamp, ssrc;
    PyObject *result = NULL;
    if (read_uint(first_bits_o, 0xFFFF, &first_bits, "first_bits") == 0 &&
        read_uint(sequence_o, 0xFFFF, &sequence, "sequence") == 0 &&
        read_uint(timestamp_o, 0xFFFFFFFFUL, &timestamp, "timestamp") == 0 &&
        read_uint(ssrc_o, 0xFFFFFFFFUL, &ssrc, "ssrc") == 0) {
        enum send_result sent =
            udp_sink_send(self, (unsigned int)first_bits, (unsigned int)sequence,
                          (uint32_t)timestamp, (uint32_t)ssrc, body.buf, body.len);
        result = PyBool_FromLong(sent != SEND_BACKED_UP);
    }
    PyBuffer_Release(&body);
    return result;
}

static PyMemberDef UdpSink_members[] = {
    {"sent", T_ULONGLONG, offsetof(UdpSink, sent), READONLY, "packets the kernel took"},
    {"refused", T_ULONGLONG, offsetof(UdpSink, refused), READONLY,
     "packets refused because the socket's buffer was full"},
    {NULL},
};

static PyObject *UdpSink_get_closed(UdpSink *self, void *closure) {
    return PyBool_FromLong(self->fd < 0);
}

static PyGetSetDef UdpSink_getset[] = {
    {"closed", (getter)UdpSink_get_closed, NULL, "the sink's descriptor is closed", NULL},
    {NULL},
};

/* sink.send_rtcp(packet) -> bool: SRTCP-protect a compound RTCP packet and send it; False
 * when the socket's buffer is full. */
static PyObject *UdpSink_send_rtcp(UdpSink *self, PyObject *packet) {
    Py_buffer data;
    if (self->protect_rtcp == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "this sink was made without an RTCP protect");
        return NULL;
    }
    if (PyObject_GetBuffer(packet, &data, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    enum send_result result = SEND_DROPPED;
    if (data.len < 8 || data.len > PACKET_BUFFER - SRTCP_MAX_TRAILER) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_ValueError, "an RTCP packet is 8 to 1352 bytes");
        return NULL;
    }
    if (self->fd >= 0) {
        memcpy(packet_buffer, data.buf, (size_t)data.len);
        int length = (int)data.len;
        if (self->protect_rtcp(self->context, packet_buffer, &length) == 0) {
            result = send_one(self, packet_buffer, length);
        }
    }
    PyBuffer_Release(&data);
    return PyBool_FromLong(result != SEND_BACKED_UP);
}

static PyMethodDef UdpSink_methods[] = {
    {"close", (PyCFunction)UdpSink_close, METH_NOARGS, "close the sink's own descriptor"},
    {"send_rtcp", (PyCFunction)UdpSink_send_rtcp, METH_O,
     "send_rtcp(packet) -> bool: SRTCP-protect and send a compound RTCP packet"},
    {NULL},
};

static PyTypeObject UdpSinkType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "server.media._fanout.UdpSink",
    .tp_basicsize = sizeof(UdpSink),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "One viewer's socket, address and SRTP context: sends one RTP packet per call.",
    .tp_new = UdpSink_new,
    .tp_init = (initproc)UdpSink_init,
    .tp_call = (ternaryfunc)UdpSink_call,
    .tp_dealloc = (destructor)UdpSink_dealloc,
    .tp_traverse = (traverseproc)UdpSink_traverse,
    .tp_clear = (inquiry)UdpSink_clear,
    .tp_members = UdpSink_members,
    .tp_getset = UdpSink_getset,
    .tp_methods = UdpSink_methods,
};

/* -- Route -------------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *sink;                 /* a UdpSink, or any callable Sink */
    unsigned short first_bits;      /* header's first two bytes, marker clear */
    unsigned short sequence_offset; /* added to the publication's sequence numbers */
    unsigned short last_sequence;
    unsigned int ssrc;
    unsigned int timestamp_offset;
    unsigned int last_timestamp;
    char has_timestamp;
    Py_ssize_t profile_index;
    unsigned long long packets;
    unsigned long long octets;
} Route;

static PyTypeObject RouteType;

/* Send one packet on one route; 1 sent (or dropped for good), 0 backed up, -1 error. */
static int route_send(Route *route, PyObject *body, unsigned int marker_bit,
                      unsigned int sequence, uint32_t timestamp, Py_ssize_t payload_length) {
    unsigned int out_sequence = (sequence + route->sequence_offset) & 0xFFFF;
    uint32_t out_timestamp = timestamp + route->timestamp_offset;
    unsigned int first_bits = route->first_bits | marker_bit;
    int sent;
    PyObject *sink = route->sink;
    if (sink == NULL || sink == Py_None) {
        PyErr_SetString(PyExc_RuntimeError, "route has no sink");
        return -1;
    }
    if (Py_IS_TYPE(sink, &UdpSinkType)) {
        if (!PyBytes_Check(body)) {
            PyErr_SetString(PyExc_TypeError, "bodies are bytes");
            return -1;
        }
        sent = udp_sink_send((UdpSink *)sink, first_bits, out_sequence, out_timestamp,
                             route->ssrc, (const unsigned char *)PyBytes_AS_STRING(body),
                             PyBytes_GET_SIZE(body)) != SEND_BACKED_UP;
    } else {
        /* The sink is Python: it may drop the route's reference to itself while it runs. */
        Py_INCREF(sink);
        PyObject *result = PyObject_CallFunction(sink, "IIkkO", first_bits, out_sequence,
                                                 (unsigned long)out_timestamp,
                                                 (unsigned long)route->ssrc, body);
        Py_DECREF(sink);
        if (result == NULL) {
            return -1;
        }
        sent = PyObject_IsTrue(result);
        Py_DECREF(result);
        if (sent < 0) {
            return -1;
        }
    }
    if (sent) {
        route->last_sequence = (unsigned short)out_sequence;
        route->last_timestamp = out_timestamp;
        route->has_timestamp = 1;
        route->packets++;
        route->octets += (unsigned long long)payload_length;
    }
    return sent;
}

static int check_packet(unsigned long marker_bit, unsigned long sequence,
                        unsigned long long timestamp, Py_ssize_t payload_length) {
    if (marker_bit != 0 && marker_bit != 0x80) {
        PyErr_SetString(PyExc_ValueError, "marker_bit is 0 or 0x80");
        return -1;
    }
    if (sequence > 0xFFFF || timestamp > 0xFFFFFFFFULL || payload_length < 0) {
        PyErr_SetString(PyExc_ValueError, "sequence, timestamp or payload length out of range");
        return -1;
    }
    return 0;
}

/* route.transmit(body, marker_bit, sequence, timestamp, payload_length) -> bool */
static PyObject *Route_transmit(Route *self, PyObject *args) {
    PyObject *body;
    unsigned long marker_bit, sequence;
    unsigned long long timestamp;
    Py_ssize_t payload_length;
    if (!PyArg_ParseTuple(args, "O!kkKn", &PyBytes_Type, &body, &marker_bit, &sequence,
                          &timestamp, &payload_length) ||
        check_packet(marker_bit, sequence, timestamp, payload_length) < 0) {
        return NULL;
    }
    int sent = route_send(self, body, (unsigned int)marker_bit, (unsigned int)sequence,
                          (uint32_t)timestamp, payload_length);
    if (sent < 0) {
        return NULL;
    }
    return PyBool_FromLong(sent);
}

static PyObject *Route_get_last_timestamp(Route *self, void *closure) {
    if (!self->has_timestamp) {
        Py_RETURN_NONE;
    }
    return PyLong_FromUnsignedLong(self->last_timestamp);
}

static int Route_set_last_timestamp(Route *self, PyObject *value, void *closure) {
    if (value == NULL || value == Py_None) {
        self->has_timestamp = 0;
        return 0;
    }
    unsigned long number;
    if (read_uint(value, 0xFFFFFFFFUL, &number, "last_timestamp") < 0) {
        return -1;
    }
    self->last_timestamp = (unsigned int)number;
    self->has_timestamp = 1;
    return 0;
}

static int Route_traverse(Route *self, visitproc visit, void *arg) {
    Py_VISIT(self->sink);
    return 0;
}

static int Route_clear(Route *self) {
    Py_CLEAR(self->sink);
    return 0;
}

static void Route_dealloc(Route *self) {
    PyObject_GC_UnTrack(self);
    Route_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMemberDef Route_members[] = {
    {"sink", T_OBJECT, offsetof(Route, sink), 0, "where this viewer's packets go"},
    {"first_bits", T_USHORT, offsetof(Route, first_bits), 0,
     "the header's first two bytes, marker bit clear"},
    {"sequence_offset", T_USHORT, offsetof(Route, sequence_offset), 0, NULL},
    {"last_sequence", T_USHORT, offsetof(Route, last_sequence), 0, NULL},
    {"ssrc", T_UINT, offsetof(Route, ssrc), 0, NULL},
    {"timestamp_offset", T_UINT, offsetof(Route, timestamp_offset), 0, NULL},
    {"profile_index", T_PYSSIZET, offsetof(Route, profile_index), 0,
     "which of the packet's bodies (one per extension profile) this viewer gets"},
    {"packets", T_ULONGLONG, offsetof(Route, packets), 0, NULL},
    {"octets", T_ULONGLONG, offsetof(Route, octets), 0, NULL},
    {NULL},
};

static PyGetSetDef Route_getset[] = {
    {"last_timestamp", (getter)Route_get_last_timestamp, (setter)Route_set_last_timestamp,
     "the last RTP timestamp sent, None before the first packet", NULL},
    {NULL},
};

static PyMethodDef Route_methods[] = {
    {"transmit", (PyCFunction)Route_transmit, METH_VARARGS,
     "transmit(body, marker_bit, sequence, timestamp, payload_length) -> bool"},
    {NULL},
};

static PyTypeObject RouteType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "server.media._fanout.Route",
    .tp_basicsize = sizeof(Route),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The rewriting state of one viewer of one track.",
    .tp_new = PyType_GenericNew,
    .tp_dealloc = (destructor)Route_dealloc,
    .tp_traverse = (traverseproc)Route_traverse,
    .tp_clear = (inquiry)Route_clear,
    .tp_members = Route_members,
    .tp_getset = Route_getset,
    .tp_methods = Route_methods,
};

/* -- forward ------------------------------------------------------------------------------ */

typedef struct {
    PyObject *bodies; /* list[bytes]: one per extension profile */
    unsigned int marker_bit;
    unsigned int sequence;
    uint32_t timestamp;
    Py_ssize_t payload_length;
} BatchPacket;

static void route_sent(Route *route, const BatchPacket *packet) {
    route->last_sequence = (unsigned short)((packet->sequence + route->sequence_offset) & 0xFFFF);
    route->last_timestamp = packet->timestamp + route->timestamp_offset;
    route->has_timestamp = 1;
    route->packets++;
    route->octets += (unsigned long long)packet->payload_length;
}

/* The route's body of a packet (borrowed), or NULL with an error: a Python sink earlier in
 * the loop may have changed the bodies under us. */
static PyObject *body_of(Route *route, const BatchPacket *packet) {
    if (route->profile_index < 0 || route->profile_index >= PyList_GET_SIZE(packet->bodies)) {
        PyErr_SetString(PyExc_IndexError, "route's profile_index has no body");
        return NULL;
    }
    PyObject *body = PyList_GET_ITEM(packet->bodies, route->profile_index);
    if (!PyBytes_Check(body)) {
        PyErr_SetString(PyExc_TypeError, "bodies are bytes");
        return NULL;
    }
    return body;
}

/* The packets of a batch to one viewer on its socket: built and protected into the batch
 * buffers, then sent in trains of equal-length datagrams (RTP padding evens out packets up
 * to 255 bytes shorter), one segmented send per train. 1 all sent, 0 backed up, -1 error. */
static int route_send_batch(Route *route, UdpSink *sink, const BatchPacket *packets,
                            Py_ssize_t count) {
    if (sink->fd < 0) {
        for (Py_ssize_t index = 0; index < count; index++) {
            route_sent(route, &packets[index]); /* dropped, as one by one */
        }
        return 1;
    }
    for (Py_ssize_t index = 0; index < count; index++) {
        if (body_of(route, &packets[index]) == NULL) {
            return -1; /* checked once here: nothing below runs Python */
        }
    }
    for (Py_ssize_t chunk = 0; chunk < count; chunk += BATCH_SLOTS) {
        Py_ssize_t end = chunk + BATCH_SLOTS < count ? chunk + BATCH_SLOTS : count;
        Py_ssize_t first = chunk;
        while (first < end) {
            Py_ssize_t segment = RTP_HEADER + PyBytes_GET_SIZE(body_of(route, &packets[first]));
            Py_ssize_t last = first + 1, bytes = segment;
            if (segment <= PACKET_BUFFER - SRTP_MAX_TRAILER) {
                while (last < end && last - first < GSO_SEGMENTS && bytes + segment <= GSO_BYTES) {
                    Py_ssize_t size = RTP_HEADER + PyBytes_GET_SIZE(body_of(route, &packets[last]));
                    if (size > segment || segment - size > MAX_PADDING) {
                        break;
                    }
                    bytes += segment;
                    last++;
                }
            }
            unsigned char *built[GSO_SEGMENTS];
            int lengths[GSO_SEGMENTS];
            unsigned int trains = 0;
            for (Py_ssize_t index = first; index < last; index++) {
                const BatchPacket *packet = &packets[index];
                PyObject *body = body_of(route, packet);
                Py_ssize_t size = RTP_HEADER + PyBytes_GET_SIZE(body);
                int padding = index + 1 < last ? (int)(segment - size) : 0;
                unsigned char *slot = batch_buffers[index - chunk];
                int length = build_packet(
                    sink, slot, route->first_bits | packet->marker_bit,
                    (packet->sequence + route->sequence_offset) & 0xFFFF,
                    packet->timestamp + route->timestamp_offset, route->ssrc,
                    (const unsigned char *)PyBytes_AS_STRING(body), PyBytes_GET_SIZE(body),
                    padding);
                if (length >= 0) {
                    built[trains] = slot;
                    lengths[trains] = length;
                    trains++;
                }
            }
            int even = 1;
            for (unsigned int index = 0; index + 1 < trains; index++) {
                even &= lengths[index] == lengths[0];
            }
            if (trains > 1 && (!even || lengths[trains - 1] > lengths[0])) {
                even = 0; /* SRTP made them unequal after all: send one by one */
            }
            enum send_result result = SEND_SENT;
            if (trains == 0) {
                result = SEND_SENT;
            } else if (even) {
                result = send_segmented(sink, built, lengths, trains, lengths[0]);
            } else {
                for (unsigned int index = 0; index < trains && result != SEND_BACKED_UP; index++) {
                    result = send_one(sink, built[index], lengths[index]);
                }
            }
            if (result == SEND_BACKED_UP) {
                return 0;
            }
            for (Py_ssize_t index = first; index < last; index++) {
                route_sent(route, &packets[index]);
            }
            first = last;
        }
    }
    return 1;
}

/* The same through any callable sink, packet by packet. 1 all sent, 0 backed up, -1 error. */
static int route_send_each(Route *route, const BatchPacket *packets, Py_ssize_t count) {
    for (Py_ssize_t index = 0; index < count; index++) {
        const BatchPacket *packet = &packets[index];
        PyObject *body = body_of(route, packet);
        if (body == NULL) {
            return -1;
        }
        Py_INCREF(body);
        int sent = route_send(route, body, packet->marker_bit, packet->sequence,
                              packet->timestamp, packet->payload_length);
        Py_DECREF(body);
        if (sent <= 0) {
            return sent;
        }
    }
    return 1;
}

static int read_batch_packet(PyObject *item, BatchPacket *out) {
    unsigned long marker_bit, sequence;
    unsigned long long timestamp;
    if (!PyTuple_Check(item) ||
        !PyArg_ParseTuple(item, "O!kkKn", &PyList_Type, &out->bodies, &marker_bit, &sequence,
                          &timestamp, &out->payload_length)) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError,
                            "a packet is (bodies, marker_bit, sequence, timestamp, payload_length)");
        }
        return -1;
    }
    if (check_packet(marker_bit, sequence, timestamp, out->payload_length) < 0) {
        return -1;
    }
    for (Py_ssize_t index = 0; index < PyList_GET_SIZE(out->bodies); index++) {
        if (!PyBytes_Check(PyList_GET_ITEM(out->bodies, index))) {
            PyErr_SetString(PyExc_TypeError, "bodies are bytes");
            return -1;
        }
    }
    out->marker_bit = (unsigned int)marker_bit;
    out->sequence = (unsigned int)sequence;
    out->timestamp = (uint32_t)timestamp;
    return 0;
}

/* forward(routes, packets) -> the routes that were backed up, or None
 *   packets: list of (bodies, marker_bit, sequence, timestamp, payload_length) */
static PyObject *forward(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "forward takes 2 arguments");
        return NULL;
    }
    PyObject *routes = args[0];
    /* Our own reference and copy: a Python sink may change either list under us. */
    PyObject *items = PySequence_List(args[1]);
    if (!PyList_Check(routes) || items == NULL) {
        Py_XDECREF(items);
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "routes and packets are lists");
        }
        return NULL;
    }
    Py_ssize_t count = PyList_GET_SIZE(items);
    BatchPacket *packets = PyMem_New(BatchPacket, count > 0 ? count : 1);
    PyObject *backed_up = NULL;
    if (packets == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    Py_ssize_t body_count = PY_SSIZE_T_MAX;
    for (Py_ssize_t index = 0; index < count; index++) {
        if (read_batch_packet(PyList_GET_ITEM(items, index), &packets[index]) < 0) {
            goto fail;
        }
        Py_ssize_t bodies = PyList_GET_SIZE(packets[index].bodies);
        body_count = bodies < body_count ? bodies : body_count;
    }
    if (count == 0) {
        goto done;
    }
    for (Py_ssize_t index = 0; index < PyList_GET_SIZE(routes); index++) {
        PyObject *item = PyList_GET_ITEM(routes, index);
        if (!PyObject_TypeCheck(item, &RouteType)) {
            PyErr_SetString(PyExc_TypeError, "routes are Route objects");
            goto fail;
        }
        Route *route = (Route *)item;
        if (route->profile_index < 0 || route->profile_index >= body_count) {
            PyErr_SetString(PyExc_IndexError, "route's profile_index has no body");
            goto fail;
        }
        if (route->sink == NULL || route->sink == Py_None) {
            PyErr_SetString(PyExc_RuntimeError, "route has no sink");
            goto fail;
        }
        Py_INCREF(item);
        int sent = Py_IS_TYPE(route->sink, &UdpSinkType)
                       ? route_send_batch(route, (UdpSink *)route->sink, packets, count)
                       : route_send_each(route, packets, count);
        if (sent == 0) {
            if ((backed_up == NULL && (backed_up = PyList_New(0)) == NULL) ||
                PyList_Append(backed_up, item) < 0) {
                Py_DECREF(item);
                goto fail;
            }
        }
        Py_DECREF(item);
        if (sent < 0) {
            goto fail;
        }
    }
done:
    PyMem_Free(packets);
    Py_DECREF(items);
    if (backed_up == NULL) {
        Py_RETURN_NONE;
    }
    return backed_up;
fail:
    PyMem_Free(packets);
    Py_DECREF(items);
    Py_XDECREF(backed_up);
    return NULL;
}

/* gso_sends() -> segmented sends so far (a process-wide count, for metrics and tests) */
static PyObject *gso_sends_count(PyObject *module, PyObject *Py_UNUSED(ignored)) {
    return PyLong_FromUnsignedLongLong(gso_sends);
}

/* gso_enabled(enabled=None) -> whether segmented sends are used; False turns them off */
static PyObject *gso_enabled(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs > 1) {
        PyErr_SetString(PyExc_TypeError, "gso_enabled takes at most 1 argument");
        return NULL;
    }
    if (nargs == 1 && args[0] != Py_None) {
        int enable = PyObject_IsTrue(args[0]);
        if (enable < 0) {
            return NULL;
        }
        gso_usable = enable;
    }
    return PyBool_FromLong(gso_usable);
}

static PyMethodDef module_methods[] = {
    {"forward", (PyCFunction)(void (*)(void))forward, METH_FASTCALL,
     "forward(routes, packets) -> list[Route] | None: send packets (each (bodies, marker_bit, "
     "sequence, timestamp, payload_length)) on every route; the backed-up ones come back"},
    {"gso_sends", (PyCFunction)gso_sends_count, METH_NOARGS,
     "gso_sends() -> int: segmented sends so far"},
    {"gso_enabled", (PyCFunction)(void (*)(void))gso_enabled, METH_FASTCALL,
     "gso_enabled(enabled=None) -> bool: whether segmented sends are used"},
    {NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "server.media._fanout",
    .m_doc = "The per-viewer forwarding loop, compiled (see rtp_forwarding.py).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__fanout(void) {
    if (PyType_Ready(&UdpSinkType) < 0 || PyType_Ready(&RouteType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(m, "UdpSink", (PyObject *)&UdpSinkType) < 0 ||
        PyModule_AddObjectRef(m, "Route", (PyObject *)&RouteType) < 0 ||
        PyModule_AddIntConstant(m, "MAX_PACKET", PACKET_BUFFER - SRTP_MAX_TRAILER) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
