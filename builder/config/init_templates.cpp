#include "builder/config/init_templates.hpp"

#include <fstream>
#include <vector>

#include "support/error.hpp"

namespace cog::builder::config {

const std::vector<InitTemplate>& init_templates() {
  static const std::vector<InitTemplate> templates = {
      {"cog.yaml", R"(# The environment your model runs in, and how to call it.
# Reference: https://cog.run/yaml

build:
  # Set to true if your model needs a GPU.
  gpu: false

  # The Python version to install.
  python_version: "3.13"

  # Python packages, one per line, in pip's requirements format.
  python_requirements: requirements.txt

  # System packages from apt, if your model needs any.
  # system_packages:
  #   - "libgl1"

  # Commands run after the packages are installed.
  # run:
  #   - "echo environment ready"

# The class (or function) that runs a prediction.
run: "run.py:Runner"
)"},
      {"run.py", R"(# The model's interface: setup() loads it once, run() answers each request.
# Reference: https://cog.run/python

from cog import BaseRunner, Input, Path


class Runner(BaseRunner):
    def setup(self) -> None:
        """Load the model into memory once, so that every run is fast."""
        # self.model = torch.load("./weights.pth")

    def run(
        self,
        image: Path = Input(description="Grayscale input image"),
        scale: float = Input(description="Factor to scale the image by", ge=0, le=10, default=1.5),
    ) -> Path:
        """Run a single prediction on the model."""
        # processed_input = preprocess(image)
        # output = self.model(processed_input, scale)
        # return postprocess(output)
        raise NotImplementedError("write your model's run() here")
)"},
      {"requirements.txt", R"(# Python packages your model needs, in pip's requirements format, e.g.:
# torch==2.5.1
# pillow==11.0.0
)"},
      {".dockerignore", R"(# Files left out of the image. The syntax is Docker's .dockerignore.
**/.git
**/.github
**/.gitignore
.python-version
__pycache__
.mypy_cache
.pytest_cache
.ruff_cache
/venv
)"},
      {".github/workflows/push.yaml", R"(# Pushes the model to Replicate from the Actions tab.
# Set the REPLICATE_CLI_AUTH_TOKEN secret in the repository settings first.
name: Push to Replicate

on:
  workflow_dispatch:
    inputs:
      model_name:
        description: "Model on Replicate to push to, e.g. your-name/your-model"

jobs:
  push_to_replicate:
    name: Push to Replicate
    runs-on: ubuntu-latest
    steps:
      - name: Check out the code
        uses: actions/checkout@v4

      - name: Set up Cog
        uses: replicate/setup-cog@v2
        with:
          token: ${{ secrets.REPLICATE_CLI_AUTH_TOKEN }}

      - name: Push to Replicate
        run: cog push r8.im/${{ inputs.model_name }}
)"},
  };
  return templates;
}

void write_init_templates(const std::filesystem::path& project_dir,
                          const std::function<void(const std::string&)>& report) {
  for (const auto& file : init_templates()) {
    const auto path = project_dir / file.relative_path;
    if (std::filesystem::exists(path)) {
      report("Skipped existing " + file.relative_path);
      continue;
    }
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    std::ofstream out(path, std::ios::binary);
    out << file.contents;
    out.close();
    if (!out) {
      throw Error(ErrorKind::Io, path.string(), "could not write the file", "check that the directory is writable");
    }
    report("Creating " + file.relative_path);
  }
}

}  // namespace cog::builder::config
