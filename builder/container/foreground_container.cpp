#include "builder/container/foreground_container.hpp"

#include <csignal>

namespace cog::builder::container {

ForegroundContainer::ForegroundContainer(std::string id, ContainerCommands commands, const support::SpawnOptions& io)
    : id_(std::move(id)), commands_(std::move(commands)) {
  process_.emplace(support::Process::spawn(commands_.run, io));
}

ForegroundContainer::~ForegroundContainer() {
  if (!finished_ && process_) {
    kill(SIGKILL);
    process_->wait();
  }
  remove();
}

void ForegroundContainer::kill(int signal_number) {
  if (finished_) return;
  support::run_captured(commands_.kill(signal_number));
}

bool ForegroundContainer::exited() { return finished_ || process_->exited(); }

support::ProcessResult ForegroundContainer::wait() {
  auto result = process_->wait();
  finished_ = true;
  remove();
  return result;
}

void ForegroundContainer::remove() { support::run_captured(commands_.remove); }

}  // namespace cog::builder::container
