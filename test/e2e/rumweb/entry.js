// Exposes the real aws-rum-web client to test pages, unchanged.
import { AwsRum } from 'aws-rum-web';

window.startRum = function (id, region, config) {
  window.awsRum = new AwsRum(id, '1.0.0', region, config);
  return window.awsRum;
};
