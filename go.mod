module github.com/sightline/sightline

go 1.26.8

require github.com/aws/aws-xray-sdk-go/v2 v2.0.3 // indirect
