// C++ exceptions → the classes of atdata_cpp.errors, with their fields as
// attributes. The most derived type is caught first.

#include "atdata/error.hpp"
#include "atdata/net/redis.hpp"
#include "atdata/net/s3.hpp"
#include "common.hpp"

namespace atdata::python {
namespace {

void raise(const char* cls, const std::exception& e, py::dict fields = py::dict()) {
  py::object type = py::module_::import("atdata_cpp.errors").attr(cls);
  py::object instance = type(py::str(e.what()), **fields);
  PyErr_SetObject(type.ptr(), instance.ptr());
}

py::object opt(const std::optional<std::uint64_t>& v) {
  return v ? py::object(py::int_(*v)) : py::object(py::none());
}

void translate(std::exception_ptr p) {
  try {
    std::rethrow_exception(p);
  } catch (const SampleError& e) {
    raise("SampleError", e,
          py::dict(py::arg("url") = e.url(), py::arg("offset") = e.offset(), py::arg("key") = e.key(),
                   py::arg("sample_type") = e.sample_type(), py::arg("field") = e.field(),
                   py::arg("reason") = e.reason()));
  } catch (const SchemaError& e) {
    raise("SchemaError", e, py::dict(py::arg("field") = e.field(), py::arg("reason") = e.reason()));
  } catch (const DecodeError& e) {
    raise("DecodeError", e,
          py::dict(py::arg("field") = e.field(), py::arg("reason") = e.reason(),
                   py::arg("offset") = opt(e.offset())));
  } catch (const ShardError& e) {
    raise("ShardError", e, py::dict(py::arg("url") = e.url(), py::arg("offset") = e.offset()));
  } catch (const net::S3Error& e) {
    raise("S3Error", e,
          py::dict(py::arg("status") = e.status(), py::arg("url") = e.url(), py::arg("code") = e.code(),
                   py::arg("bucket") = e.bucket(), py::arg("key") = e.key()));
  } catch (const HttpError& e) {
    raise("HttpError", e, py::dict(py::arg("status") = e.status(), py::arg("url") = e.url()));
  } catch (const NetworkError& e) {
    raise("NetworkError", e);
  } catch (const XrpcError& e) {
    raise("XrpcError", e,
          py::dict(py::arg("status") = e.status(), py::arg("nsid") = e.nsid(), py::arg("error") = e.error(),
                   py::arg("message") = e.message()));
  } catch (const DidResolutionError& e) {
    raise("DidResolutionError", e,
          py::dict(py::arg("did") = e.did(), py::arg("resolver_url") = e.resolver_url(),
                   py::arg("http_status") = e.http_status()));
  } catch (const VerifyError& e) {
    raise("VerifyError", e, py::dict(py::arg("subject") = e.subject(), py::arg("offset") = opt(e.offset())));
  } catch (const AuthError& e) {
    raise("AuthError", e);
  } catch (const RecordError& e) {
    raise("RecordError", e, py::dict(py::arg("member") = e.member()));
  } catch (const StreamError& e) {
    raise("StreamError", e,
          py::dict(py::arg("source") = e.source(), py::arg("error_name") = e.error_name(),
                   py::arg("message") = e.message()));
  } catch (const CatalogueError& e) {
    raise("CatalogueError", e,
          py::dict(py::arg("operation") = e.operation(), py::arg("sqlite_message") = e.sqlite_message(),
                   py::arg("code") = e.code()));
  } catch (const NotFound& e) {
    raise("NotFound", e, py::dict(py::arg("kind") = e.kind(), py::arg("ref") = e.ref()));
  } catch (const LocalIndexError& e) {
    raise("LocalIndexError", e,
          py::dict(py::arg("operation") = e.operation(), py::arg("backend") = e.backend(),
                   py::arg("code") = e.code()));
  } catch (const net::RedisError& e) {
    raise("RedisError", e,
          py::dict(py::arg("command") = e.command(), py::arg("server_message") = e.server_message()));
  } catch (const TypeError& e) {
    raise("TypeError", e);
  } catch (const InvalidArgument& e) {
    raise("InvalidArgument", e);
  } catch (const Error& e) {
    raise("Error", e);
  }
}

}  // namespace

void init_errors(py::module_&) {
  py::register_exception_translator(&translate);
}

}  // namespace atdata::python
