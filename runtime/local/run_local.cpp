#include "runtime/local/run_local.hpp"

#include <httplib.h>

#include <csignal>
#include <cstdlib>
#include <initializer_list>

#include <nlohmann/json.hpp>

#include "support/error.hpp"
#include "runtime/local/container_server.hpp"
#include "runtime/local/inputs.hpp"
#include "runtime/local/local_server.hpp"
#include "runtime/local/outputs.hpp"
#include "runtime/local/project.hpp"

namespace cog::runtime::local {

using nlohmann::json;

namespace {

LocalServerOptions server_options(const HostRuntimeOptions& host) {
  LocalServerOptions options;
  options.debug = host.debug;
  options.env = host.env;
  if (!host.python.empty()) options.python_paths = python_site_paths(host.python);
  return options;
}

std::string format_422(const json& body) {
  std::string message = "The inputs you passed to cog run could not be validated:\n";
  for (const auto& entry : body.value("detail", json::array())) {
    const json loc = entry.value("loc", json::array());
    const std::string field =
        loc.size() > 2 ? (loc[2].is_string() ? loc[2].get<std::string>() : loc[2].dump()) : "input";
    message += "\n" + field + ": " + entry.value("msg", "invalid");
  }
  message +=
      "\n\nYou can provide an input with -i. For example:\n\n    cog run -i blur=3.5\n\n"
      "If your input is a local file, you need to prefix the path with @ to tell Cog to read the "
      "file contents. For example:\n\n    cog run -i path=@image.jpg";
  return message;
}

}  // namespace

namespace {

json inputs_for(const RunLocalOptions& options, const json& schema) {
  const std::string component = options.train ? "TrainingInput" : "Input";
  const json inputs =
      options.json ? parse_json_inputs(*options.json) : parse_cli_inputs(options.inputs, schema, component);
  check_inputs(inputs, schema, component);
  return inputs;
}

// Everything after the server is up: the request, its errors, and the output handling. Shared by
// the host runtime and containers. `inputs` is null when they still have to be read from the
// server's own schema.
template <typename Server>
int predict_on(Server& server, const RunLocalOptions& options, json inputs, std::ostream& out, std::ostream& err) {
  const json schema = server.get_json("/openapi.json");
  if (inputs.is_null()) inputs = inputs_for(options, schema);

  json context = json::object();
  if (options.use_replicate_token) {
    const char* token = std::getenv("REPLICATE_API_TOKEN");
    if (!token || !*token) {
      throw Error(ErrorKind::Usage, "--use-replicate-token", "REPLICATE_API_TOKEN is not set",
                  "export REPLICATE_API_TOKEN, or drop the flag");
    }
    context["replicate_api_token"] = token;
  }

  err << (options.train ? "Running training...\n" : "Running prediction...\n") << std::flush;
  httplib::Client client("127.0.0.1", server.port());
  client.set_read_timeout(7 * 24 * 3600, 0);
  client.set_write_timeout(600, 0);
  const json request = {{"input", inputs}, {"context", context}};
  auto response = client.Post(options.train ? "/trainings" : "/predictions",
                              request.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
  if (!response) {
    throw Error(ErrorKind::Runtime, "cog-server",
                "the prediction request failed: " + httplib::to_string(response.error()));
  }
  const json body = json::parse(response->body, nullptr, false);
  if (response->status == 422 && body.is_object() && body.contains("detail")) {
    throw Error(ErrorKind::Validation, "", format_422(body));
  }
  if (response->status != 200 || !body.is_object()) {
    throw Error(ErrorKind::Runtime, "",
                std::string(options.train ? "/trainings" : "/predictions") + " call returned status " +
                    std::to_string(response->status));
  }
  if (const std::string logs = body.value("logs", ""); !logs.empty()) err << logs << std::flush;
  server.stop();

  OutputOptions output_options;
  output_options.output_path = options.output;
  output_options.json_mode = options.json.has_value();
  output_options.component = options.train ? "TrainingOutput" : "Output";
  output_options.default_name = options.train ? "weights" : "output";
  return handle_prediction_output(body, schema, output_options, out, err);
}

// Cog's wording; for 0.0.0.0 both the loopback address and localhost are printed.
void print_serving_at(const std::string& bind_host, int port, std::ostream& err) {
  if (bind_host == "0.0.0.0") err << "Serving at http://127.0.0.1:" << port << "\n";
  const bool local = bind_host == "127.0.0.1" || bind_host == "0.0.0.0";
  err << "Serving at http://" << (local ? "localhost" : bind_host) << ":" << port << "\n" << std::flush;
}

// Blocks `numbers` for the calling thread (and the threads it starts), so that serving waits for
// them with sigtimedwait instead of dying of them; returns the set to wait on.
sigset_t block_signals(std::initializer_list<int> numbers) {
  sigset_t signals;
  sigemptyset(&signals);
  for (const int number : numbers) sigaddset(&signals, number);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

void check_input_flags(const RunLocalOptions& options) {
  if (!options.inputs.empty() && options.json) {
    throw Error(ErrorKind::Usage, "cog run", "Must use one of --json or --input to provide model inputs");
  }
}

}  // namespace

int run_local(const RunLocalOptions& options, const std::filesystem::path& cog_exe, std::ostream& out,
              std::ostream& err) {
  check_input_flags(options);
  const LocalProject project = load_local_project(std::filesystem::current_path(), options.host.config_file);
  for (const auto& warning : project.warnings) err << "cog: warning: " << warning << "\n";
  LocalServerOptions server_opts = server_options(options.host);
  server_opts.mode = options.train ? "train" : "predict";
  LocalServer server(project, locate_runtime(cog_exe), server_opts);

  err << "Starting the runtime on the host and running setup()...\n" << std::flush;
  server.start();
  server.wait_ready(options.setup_timeout_s);
  return predict_on(server, options, nullptr, out, err);
}

int run_image(const RunImageOptions& options, std::ostream& out, std::ostream& err) {
  check_input_flags(options.run);
  ContainerServerOptions server_options;
  server_options.image = options.image;
  server_options.mode = options.run.train ? "train" : "predict";
  server_options.debug = options.run.host.debug;
  for (const auto& [name, value] : options.run.host.env) server_options.env.push_back(name + "=" + value);
  server_options.project_dir = options.project_dir;
  server_options.runtime = options.runtime;
  server_options.gpus = options.gpus;
  server_options.binds = options.binds;
  ContainerServer server(server_options);

  // Inputs are checked against the image's labelled schema before anything starts.
  json inputs = nullptr;
  if (const json schema = server.labelled_schema(); schema.is_object()) inputs = inputs_for(options.run, schema);

  err << "Starting the container and running setup()...\n" << std::flush;
  server.start();
  server.wait_ready(options.run.setup_timeout_s);
  return predict_on(server, options.run, inputs, out, err);
}

int serve_image(const ServeImageOptions& options, std::ostream& err) {
  ContainerServerOptions server_options;
  server_options.image = options.image;
  server_options.host = options.bind_host;
  server_options.port = options.port;
  server_options.upload_url = options.upload_url;
  server_options.await_explicit_shutdown = true;
  server_options.project_dir = options.project_dir;
  server_options.runtime = options.runtime;
  server_options.debug = options.debug;
  server_options.gpus = options.gpus;
  server_options.binds = options.binds;

  const sigset_t signals = block_signals({SIGINT, SIGTERM});
  ContainerServer server(server_options);
  server.start();
  print_serving_at(options.bind_host, options.port, err);
  const timespec tick{0, 200 * 1000 * 1000};
  while (server.running()) {
    if (sigtimedwait(&signals, nullptr, &tick) > 0) {
      server.stop();
      break;
    }
  }
  return server.wait();
}

int serve_local(const ServeLocalOptions& options, const std::filesystem::path& cog_exe, std::ostream& err) {
  const LocalProject project = load_local_project(std::filesystem::current_path(), options.host.config_file);
  for (const auto& warning : project.warnings) err << "cog: warning: " << warning << "\n";
  LocalServerOptions server_opts = server_options(options.host);
  server_opts.port = options.port;
  server_opts.host = options.bind_host;
  server_opts.upload_url = options.upload_url;

  // Ctrl-C and SIGTERM are forwarded to the server, which drains and exits; we wait for it.
  const sigset_t signals = block_signals({SIGINT, SIGTERM, SIGCHLD});

  LocalServer server(project, locate_runtime(cog_exe), server_opts);
  server.start();
  print_serving_at(options.bind_host, options.port, err);
  bool forwarded = false;
  while (true) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) != 0) continue;
    if (signal_number == SIGCHLD) break;
    if (!forwarded && server.pid() > 0) {
      ::kill(server.pid(), SIGTERM);
      forwarded = true;
    }
  }
  return server.wait();
}

}  // namespace cog::runtime::local
