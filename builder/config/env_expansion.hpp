#pragma once
// The substitution Docker applies to an ENV instruction's values, which Cog's Dockerfile relies on
// for cog.yaml's `environment` (`PATH=/opt/tool/bin:$PATH`): our builder sets the same values
// without a Dockerfile, so it expands them the same way.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace cog::builder::config {

// The value of a variable before the instruction; nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// `$NAME` and `${NAME}` become the variable's value ("" when unset), `${NAME:-word}` the value or
// `word` when unset or empty, `${NAME:+word}` `word` when set and not empty, else "". `\$` is a
// literal `$`; every other character, backslashes included, is kept as written, and so is a `$`
// that starts no name. Throws cog::Error(Validation) naming `where` for an unterminated `${`.
std::string expand_env_value(std::string_view value, const EnvLookup& lookup, const std::string& where);

}  // namespace cog::builder::config
