//! The data: one row per (service, region). Adding a region or a service is
//! adding rows here; nothing else changes.
//!
//! Sources (see the crate documentation for the full story):
//!
//! - **[ip-ranges]**: AWS's `ip-ranges.json` as kept in the GitHub repository
//!   `seligman/aws-ip-ranges` (file `ip-ranges.json`, commit `000baefa`). Its
//!   header says `createDate 2021-01-27-21-34-18`, but it already lists regions
//!   opened in 2022 (me-central-1, eu-central-2, ap-south-2), so the prefixes are
//!   of about 2022. Every `s3` and `dynamodb` range below is one of that file's
//!   `"service": "S3"` / `"service": "DYNAMODB"` prefixes of the region, except
//!   S3 in us-east-1, which the scenario contract fixes.
//! - **[describe-prefix-lists]**: the output of `aws ec2 describe-prefix-lists`
//!   in 15 regions, published in `sharadchhetri/aws` (README.md, about 2018):
//!   the real `pl-` ids of S3 and DynamoDB in those regions. us-east-2's ids are
//!   also quoted in a Stack Overflow answer dated 2020-02-24 ("What is AWS Prefix
//!   actually?").
//!
//! Interface services (kms, sqs, ...) have no prefixes of their own in
//! `ip-ranges.json`: their front doors are in the `AMAZON` set. Each gets its own
//! `AMAZON` prefix of the region from [ip-ranges] (one also listed under `EC2`,
//! `S3` or `DYNAMODB` is never used), or, marked `part of X`, a part of one. Which
//! service gets which prefix is vpcsim's choice, not AWS's.
//!
//! A `pl-` id of the form `pl-000000000000000NN` is a placeholder: the real id
//! of that list was not in the sources.

/// `(service, region, ranges, managed prefix list id)`. The id is given for the
/// gateway-endpoint services (s3, dynamodb) and only for them.
pub(crate) type Row = (&'static str, &'static str, &'static [&'static str], Option<&'static str>);

#[rustfmt::skip]
pub(crate) const ROWS: &[Row] = &[
    // ---- s3 ([ip-ranges] service S3; ids from [describe-prefix-lists]) -------------------
    // us-east-1 is AWS's pl-63a5400a as the scenario contract fixes it (ip-ranges lists
    // 3.5.0.0/18, of which the contract keeps 3.5.0.0/20 and 3.5.16.0/21).
    ("s3", "us-east-1", &["54.231.0.0/17", "52.216.0.0/15", "3.5.16.0/21", "3.5.0.0/20"], Some("pl-63a5400a")),
    ("s3", "us-east-2", &["52.219.80.0/20", "52.219.96.0/20", "3.5.128.0/22", "3.5.132.0/23"], Some("pl-7ba54012")),
    ("s3", "us-west-1", &["52.219.20.0/22", "52.219.24.0/21", "54.231.232.0/21", "52.219.112.0/21", "52.219.120.0/22", "3.5.160.0/22"], Some("pl-6ba54002")),
    ("s3", "us-west-2", &["52.218.128.0/17", "52.92.128.0/17", "3.5.76.0/22", "3.5.80.0/21"], Some("pl-68a54001")),
    ("s3", "ca-central-1", &["52.95.146.0/23", "52.95.145.0/24", "3.5.252.0/22"], Some("pl-7da54014")),
    ("s3", "eu-west-1", &["52.218.0.0/17", "54.231.128.0/19", "52.92.40.0/21", "3.5.64.0/21", "3.5.72.0/23"], Some("pl-6da54004")),
    ("s3", "eu-west-2", &["52.95.150.0/24", "52.95.148.0/23", "3.5.244.0/22"], Some("pl-7ca54015")),
    ("s3", "eu-west-3", &["52.95.154.0/23", "52.95.156.0/24", "3.5.224.0/22"], Some("pl-23ad484a")),
    ("s3", "eu-central-1", &["52.219.44.0/22", "54.231.192.0/20", "52.219.72.0/22", "52.219.140.0/24", "52.219.168.0/24", "3.5.134.0/23", "3.5.136.0/22"], Some("pl-6ea54007")),
    ("s3", "eu-north-1", &["52.95.169.0/24", "52.95.170.0/23", "3.5.216.0/22"], Some("pl-00000000000000001")),
    ("s3", "eu-south-1", &["52.95.151.0/24", "52.95.152.0/23", "3.5.248.0/22"], Some("pl-00000000000000002")),
    ("s3", "eu-south-2", &["52.95.136.0/23", "52.95.138.0/24"], Some("pl-00000000000000003")),
    ("s3", "ap-northeast-1", &["52.219.0.0/20", "52.219.16.0/22", "52.219.68.0/22", "52.219.136.0/22", "52.92.60.0/22", "3.5.152.0/21"], Some("pl-61a54008")),
    ("s3", "ap-northeast-2", &["52.219.56.0/22", "52.219.60.0/23", "52.219.144.0/22", "52.219.148.0/23", "3.5.140.0/22", "3.5.144.0/23"], Some("pl-78a54011")),
    ("s3", "ap-northeast-3", &["52.95.157.0/24", "52.95.158.0/23", "52.95.181.0/24", "52.95.182.0/23", "3.5.240.0/22"], Some("pl-00000000000000004")),
    ("s3", "ap-south-1", &["52.219.62.0/23", "52.219.64.0/22", "52.219.156.0/22", "52.219.160.0/23", "3.5.208.0/22", "3.5.212.0/23"], Some("pl-78a54011")),
    ("s3", "ap-south-2", &["52.95.184.0/23", "52.95.186.0/24"], Some("pl-00000000000000005")),
    ("s3", "ap-southeast-1", &["52.219.32.0/21", "52.219.40.0/22", "52.219.48.0/22", "52.219.124.0/22", "52.219.128.0/22", "52.219.132.0/22", "52.219.164.0/22", "3.5.146.0/23", "3.5.148.0/22"], Some("pl-6fa54006")),
    ("s3", "ap-southeast-2", &["54.231.248.0/22", "54.231.252.0/24", "52.95.128.0/21", "3.5.164.0/22", "3.5.168.0/23"], Some("pl-6ca54005")),
    ("s3", "ap-southeast-3", &["52.95.177.0/24", "52.95.178.0/23"], Some("pl-00000000000000006")),
    ("s3", "ap-east-1", &["52.95.160.0/23", "52.95.162.0/24", "3.5.236.0/22"], Some("pl-00000000000000007")),
    ("s3", "sa-east-1", &["52.95.163.0/24", "52.95.164.0/23", "52.92.72.0/22", "3.5.232.0/22"], Some("pl-6aa54003")),
    ("s3", "me-south-1", &["52.95.172.0/23", "52.95.174.0/24", "3.5.220.0/22"], Some("pl-00000000000000008")),
    ("s3", "me-central-1", &["52.95.187.0/24", "52.95.188.0/23"], Some("pl-00000000000000009")),
    ("s3", "af-south-1", &["52.95.175.0/24", "52.95.176.0/24", "52.95.180.0/24", "3.5.228.0/22"], Some("pl-0000000000000000a")),

    // ---- dynamodb ([ip-ranges] service DYNAMODB; ids from [describe-prefix-lists]) -------
    ("dynamodb", "us-east-1", &["52.94.0.0/22", "52.119.224.0/21", "52.119.232.0/21", "3.218.180.0/22"], Some("pl-02cd2c6b")),
    ("dynamodb", "us-east-2", &["52.94.4.0/24"], Some("pl-4ca54025")),
    ("dynamodb", "us-west-1", &["52.94.12.0/24"], Some("pl-6ea54007")),
    ("dynamodb", "us-west-2", &["52.94.28.0/23", "52.94.10.0/24", "52.119.252.0/22"], Some("pl-00a54069")),
    ("dynamodb", "ca-central-1", &["52.94.14.0/24"], Some("pl-4ea54027")),
    ("dynamodb", "eu-west-1", &["52.94.5.0/24", "52.94.24.0/23", "52.94.26.0/23", "52.119.240.0/21"], Some("pl-6fa54006")),
    ("dynamodb", "eu-west-2", &["52.94.15.0/24"], Some("pl-b3a742da")),
    ("dynamodb", "eu-west-3", &["52.94.16.0/24"], Some("pl-abb451c2")),
    ("dynamodb", "eu-central-1", &["52.94.17.0/24"], Some("pl-66a5400f")),
    ("dynamodb", "eu-north-1", &["52.94.23.0/24"], Some("pl-0000000000000000b")),
    ("dynamodb", "eu-south-1", &["52.94.18.0/24"], Some("pl-0000000000000000c")),
    ("dynamodb", "ap-northeast-1", &["52.94.8.0/24"], Some("pl-78a54011")),
    ("dynamodb", "ap-northeast-2", &["52.94.6.0/24"], Some("pl-48a54021")),
    ("dynamodb", "ap-northeast-3", &["52.94.19.0/24"], Some("pl-0000000000000000d")),
    ("dynamodb", "ap-south-1", &["52.94.20.0/24"], Some("pl-66a7420f")),
    ("dynamodb", "ap-southeast-1", &["52.94.11.0/24"], Some("pl-67a5400e")),
    ("dynamodb", "ap-southeast-2", &["52.94.13.0/24"], Some("pl-62a5400b")),
    ("dynamodb", "ap-east-1", &["52.119.248.0/24"], Some("pl-0000000000000000e")),
    ("dynamodb", "sa-east-1", &["52.94.7.0/24"], Some("pl-60a54009")),
    ("dynamodb", "me-south-1", &["52.119.249.0/24"], Some("pl-0000000000000000f")),
    ("dynamodb", "af-south-1", &["52.94.30.0/24"], Some("pl-00000000000000010")),

    // ---- interface-endpoint services ([ip-ranges] service AMAZON, chosen per service) ----
    // us-east-1
    ("kms", "us-east-1", &["54.239.16.0/20"], None),
    ("sqs", "us-east-1", &["52.95.208.0/22"], None),
    ("sts", "us-east-1", &["52.94.244.0/22"], None),
    ("ec2", "us-east-1", &["176.32.120.0/22"], None),
    ("ssm", "us-east-1", &["52.119.196.0/22"], None),
    ("secretsmanager", "us-east-1", &["99.78.192.0/22"], None),
    ("logs", "us-east-1", &["52.46.164.0/23"], None),
    ("ecr.api", "us-east-1", &["54.240.228.0/23"], None),
    ("ecr.dkr", "us-east-1", &["52.94.252.0/23"], None),
    // us-east-2
    ("kms", "us-east-2", &["52.95.16.0/22"], None), // part of 52.95.16.0/21
    ("sqs", "us-east-2", &["52.95.20.0/22"], None), // part of 52.95.16.0/21
    ("sts", "us-east-2", &["52.95.24.0/22"], None),
    ("ec2", "us-east-2", &["52.95.28.0/24"], None),
    ("ssm", "us-east-2", &["99.78.216.0/22"], None),
    ("secretsmanager", "us-east-2", &["99.78.176.0/22"], None), // part of 99.78.176.0/21
    ("logs", "us-east-2", &["99.78.180.0/22"], None), // part of 99.78.176.0/21
    ("ecr.api", "us-east-2", &["108.166.232.0/22"], None), // part of 108.166.232.0/21
    ("ecr.dkr", "us-east-2", &["108.166.236.0/22"], None), // part of 108.166.232.0/21
    // us-west-1
    ("kms", "us-west-1", &["52.94.72.0/23"], None), // part of 52.94.72.0/22
    ("sqs", "us-west-1", &["52.94.74.0/23"], None), // part of 52.94.72.0/22
    ("sts", "us-west-1", &["52.93.237.0/24"], None),
    ("ec2", "us-west-1", &["150.222.221.0/24"], None),
    ("ssm", "us-west-1", &["150.222.234.0/24"], None),
    ("secretsmanager", "us-west-1", &["150.222.106.0/24"], None),
    ("logs", "us-west-1", &["99.83.97.0/24"], None),
    ("ecr.api", "us-west-1", &["99.83.98.0/24"], None),
    ("ecr.dkr", "us-west-1", &["99.77.154.0/24"], None),
    // us-west-2
    ("kms", "us-west-2", &["52.94.76.0/22"], None),
    ("sqs", "us-west-2", &["54.239.48.0/22"], None),
    ("sts", "us-west-2", &["52.94.116.0/22"], None),
    ("ec2", "us-west-2", &["15.221.1.0/24"], None),
    ("ssm", "us-west-2", &["52.94.197.0/24"], None),
    ("secretsmanager", "us-west-2", &["150.222.75.0/24"], None),
    ("logs", "us-west-2", &["150.222.74.0/24"], None),
    ("ecr.api", "us-west-2", &["52.95.40.0/24"], None),
    ("ecr.dkr", "us-west-2", &["99.77.186.0/24"], None),
    // ca-central-1: all parts of 52.94.80.0/20
    ("kms", "ca-central-1", &["52.94.80.0/24"], None),
    ("sqs", "ca-central-1", &["52.94.81.0/24"], None),
    ("sts", "ca-central-1", &["52.94.82.0/24"], None),
    ("ec2", "ca-central-1", &["52.94.83.0/24"], None),
    ("ssm", "ca-central-1", &["52.94.84.0/24"], None),
    ("secretsmanager", "ca-central-1", &["52.94.85.0/24"], None),
    ("logs", "ca-central-1", &["52.94.86.0/24"], None),
    ("ecr.api", "ca-central-1", &["52.94.87.0/24"], None),
    ("ecr.dkr", "ca-central-1", &["52.94.88.0/24"], None),
    // eu-west-1
    ("kms", "eu-west-1", &["52.93.17.0/24"], None),
    ("sqs", "eu-west-1", &["52.93.43.0/24"], None),
    ("sts", "eu-west-1", &["52.93.112.0/24"], None),
    ("ec2", "eu-west-1", &["52.93.81.0/24"], None),
    ("ssm", "eu-west-1", &["52.93.16.0/24"], None),
    ("secretsmanager", "eu-west-1", &["52.93.96.0/24"], None),
    ("logs", "eu-west-1", &["150.222.81.0/24"], None),
    ("ecr.api", "eu-west-1", &["150.222.202.0/24"], None),
    ("ecr.dkr", "eu-west-1", &["15.230.50.0/24"], None),
    // eu-west-2: all parts of 52.94.48.0/20
    ("kms", "eu-west-2", &["52.94.48.0/24"], None),
    ("sqs", "eu-west-2", &["52.94.49.0/24"], None),
    ("sts", "eu-west-2", &["52.94.50.0/24"], None),
    ("ec2", "eu-west-2", &["52.94.51.0/24"], None),
    ("ssm", "eu-west-2", &["52.94.52.0/24"], None),
    ("secretsmanager", "eu-west-2", &["52.94.53.0/24"], None),
    ("logs", "eu-west-2", &["52.94.54.0/24"], None),
    ("ecr.api", "eu-west-2", &["52.94.55.0/24"], None),
    ("ecr.dkr", "eu-west-2", &["52.94.56.0/24"], None),
    // eu-central-1
    ("kms", "eu-central-1", &["52.46.184.0/22"], None),
    ("sqs", "eu-central-1", &["52.119.188.0/22"], None),
    ("sts", "eu-central-1", &["99.78.156.0/22"], None),
    ("ec2", "eu-central-1", &["54.239.54.0/23"], None),
    ("ssm", "eu-central-1", &["52.94.204.0/23"], None),
    ("secretsmanager", "eu-central-1", &["54.239.64.0/21"], None),
    ("logs", "eu-central-1", &["99.78.160.0/21"], None),
    ("ecr.api", "eu-central-1", &["99.82.163.0/24"], None),
    ("ecr.dkr", "eu-central-1", &["150.222.10.0/24"], None),
    // ap-northeast-1
    ("kms", "ap-northeast-1", &["52.94.200.0/24"], None),
    ("sqs", "ap-northeast-1", &["99.78.208.0/22"], None),
    ("sts", "ap-northeast-1", &["54.239.96.0/24"], None),
    ("ec2", "ap-northeast-1", &["52.93.250.0/23"], None),
    ("ssm", "ap-northeast-1", &["54.240.225.0/24"], None),
    ("secretsmanager", "ap-northeast-1", &["103.246.150.0/23"], None),
    ("logs", "ap-northeast-1", &["52.93.245.0/24"], None),
    ("ecr.api", "ap-northeast-1", &["52.95.243.0/24"], None),
    ("ecr.dkr", "ap-northeast-1", &["13.248.115.0/24"], None),
    // ap-south-1
    ("kms", "ap-south-1", &["150.222.210.0/24"], None),
    ("sqs", "ap-south-1", &["150.222.220.0/24"], None),
    ("sts", "ap-south-1", &["15.230.44.0/22"], None),
    ("ec2", "ap-south-1", &["150.222.83.0/24"], None),
    ("ssm", "ap-south-1", &["52.93.99.0/24"], None),
    ("secretsmanager", "ap-south-1", &["99.83.76.0/22"], None),
    ("logs", "ap-south-1", &["150.222.84.0/24"], None),
    ("ecr.api", "ap-south-1", &["52.95.64.0/22"], None), // part of 52.95.64.0/20
    ("ecr.dkr", "ap-south-1", &["52.95.68.0/22"], None), // part of 52.95.64.0/20
    // ap-southeast-1
    ("kms", "ap-southeast-1", &["52.93.63.0/24"], None),
    ("sqs", "ap-southeast-1", &["15.230.29.0/24"], None),
    ("sts", "ap-southeast-1", &["52.95.35.0/24"], None),
    ("ec2", "ap-southeast-1", &["13.248.125.0/24"], None),
    ("ssm", "ap-southeast-1", &["52.95.242.0/24"], None),
    ("secretsmanager", "ap-southeast-1", &["150.222.108.0/24"], None),
    ("logs", "ap-southeast-1", &["54.240.226.0/24"], None),
    ("ecr.api", "ap-southeast-1", &["15.230.53.0/24"], None),
    ("ecr.dkr", "ap-southeast-1", &["150.222.78.0/24"], None),
    // ap-southeast-2
    ("kms", "ap-southeast-2", &["52.95.36.0/22"], None),
    ("sqs", "ap-southeast-2", &["99.78.212.0/22"], None),
    ("sts", "ap-southeast-2", &["103.8.172.0/22"], None),
    ("ec2", "ap-southeast-2", &["52.93.78.0/24"], None),
    ("ssm", "ap-southeast-2", &["15.230.22.0/24"], None),
    ("secretsmanager", "ap-southeast-2", &["150.222.119.0/24"], None),
    ("logs", "ap-southeast-2", &["52.95.241.0/24"], None),
    ("ecr.api", "ap-southeast-2", &["99.77.144.0/24"], None),
    ("ecr.dkr", "ap-southeast-2", &["150.222.72.0/24"], None),
    // sa-east-1
    ("kms", "sa-east-1", &["52.46.172.0/22"], None),
    ("sqs", "sa-east-1", &["52.94.148.0/22"], None),
    ("sts", "sa-east-1", &["13.248.104.0/24"], None),
    ("ec2", "sa-east-1", &["13.248.114.0/24"], None),
    ("ssm", "sa-east-1", &["150.222.228.0/24"], None),
    ("secretsmanager", "sa-east-1", &["150.222.70.0/24"], None),
    ("logs", "sa-east-1", &["52.93.67.0/24"], None),
    ("ecr.api", "sa-east-1", &["177.72.240.0/22"], None), // part of 177.72.240.0/21
    ("ecr.dkr", "sa-east-1", &["177.72.244.0/22"], None), // part of 177.72.240.0/21
];
