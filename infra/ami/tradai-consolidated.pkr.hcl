# Custom AMI for the consolidated EC2 host of dev/staging (spec §2): Amazon Linux 2023 with Docker
# and the AWS CLI ready, so the host's user data (infra/src/compute.ts, consolidatedUserData) only
# logs in to ECR and starts the containers. Build, then point the stack at it:
#   packer init . && packer build -var region=eu-central-1 tradai-consolidated.pkr.hcl
#   pulumi config set custom_ami_id ami-...   (from infra/, per stack)
packer {
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.3.0"
    }
  }
}

variable "region" {
  type    = string
  default = "eu-central-1"
}

variable "instance_type" {
  type    = string
  default = "t3.small"
}

source "amazon-ebs" "consolidated" {
  region        = var.region
  instance_type = var.instance_type
  ami_name      = "tradai-consolidated-{{timestamp}}"
  ssh_username  = "ec2-user"
  imds_support  = "v2.0"

  source_ami_filter {
    filters = {
      name                = "al2023-ami-2023.*-x86_64"
      architecture        = "x86_64"
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
    owners      = ["amazon"]
    most_recent = true
  }

  launch_block_device_mappings {
    device_name           = "/dev/xvda"
    volume_size           = 30
    volume_type           = "gp3"
    encrypted             = true
    delete_on_termination = true
  }

  tags = {
    Project   = "tradai"
    ManagedBy = "packer"
    Purpose   = "consolidated-host"
  }
}

build {
  sources = ["source.amazon-ebs.consolidated"]

  provisioner "shell" {
    inline = [
      "set -euo pipefail",
      "sudo dnf update -y",
      "sudo dnf install -y docker python3 openssl",
      "sudo systemctl enable docker",
      "sudo usermod -aG docker ec2-user",
      # Keep container logs bounded even for containers that do not use awslogs.
      "echo '{\"log-driver\":\"json-file\",\"log-opts\":{\"max-size\":\"20m\",\"max-file\":\"3\"}}' | sudo tee /etc/docker/daemon.json",
      "aws --version",
      "sudo mkdir -p /var/lib/tradai",
    ]
  }
}
